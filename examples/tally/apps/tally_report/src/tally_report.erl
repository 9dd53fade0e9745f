-module(tally_report).

-export([summary/0]).

%% The tally as a line of text, e.g. <<"Total: 12,345">>.
summary() ->
    {ok, Heading} = application:get_env(tally_report, heading),
    iolist_to_binary([Heading, ": ", numfmt:thousands(tally_counter:total())]).
