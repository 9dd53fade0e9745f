-module(hello_sup).
-behaviour(supervisor).

-export([start_link/0, init/1]).

start_link() ->
    supervisor:start_link({local, ?MODULE}, ?MODULE, []).

%% Since 0.4.0 the supervisor also starts hello_ticker.
init([]) ->
    SupFlags = #{strategy => one_for_one, intensity => 5, period => 10},
    Server = #{id => hello_server,
               start => {hello_server, start_link, []},
               restart => permanent,
               shutdown => 5000,
               type => worker,
               modules => [hello_server]},
    Ticker = #{id => hello_ticker,
               start => {hello_ticker, start_link, []},
               restart => permanent,
               shutdown => 5000,
               type => worker,
               modules => [hello_ticker]},
    {ok, {SupFlags, [Server, Ticker]}}.
