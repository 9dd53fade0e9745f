%% Since tally_core 0.3.0 the counter runs under its own supervisor (tally_counter_sup): a restructured tree.
-module(tally_core_sup).
-behaviour(supervisor).

-export([start_link/0, init/1]).

start_link() ->
    supervisor:start_link({local, ?MODULE}, ?MODULE, []).

init([]) ->
    CounterSup = #{id => tally_counter_sup, start => {tally_counter_sup, start_link, []}, type => supervisor},
    {ok, {#{strategy => one_for_one, intensity => 5, period => 10}, [CounterSup]}}.
