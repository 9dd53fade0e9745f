-module(hello).

-export([version/0, greeting/0]).

%% The version of the running hello application, as a binary, e.g. <<"0.1.0">>.
version() ->
    {ok, Vsn} = application:get_key(hello, vsn),
    list_to_binary(Vsn).

greeting() ->
    <<"Hello from Ferry!">>.
