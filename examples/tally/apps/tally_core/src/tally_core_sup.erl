-module(tally_core_sup).
-behaviour(supervisor).

-export([start_link/0, init/1]).

start_link() ->
    supervisor:start_link({local, ?MODULE}, ?MODULE, []).

init([]) ->
    Counter = #{id => tally_counter, start => {tally_counter, start_link, []}},
    {ok, {#{strategy => one_for_one, intensity => 5, period => 10}, [Counter]}}.
