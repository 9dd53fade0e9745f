-module(tally_report_app).
-behaviour(application).

-export([start/2, stop/1, config_change/3]).

start(_StartType, _StartArgs) ->
    tally_report_sup:start_link().

stop(_State) ->
    ok.

%% Called by release_handler after an upgrade that changes this application's environment. tally_report reads its
%% heading on every call, so there is nothing to tell.
config_change(_Changed, _New, _Removed) ->
    ok.
