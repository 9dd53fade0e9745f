%% Remembers when it started: proof that the upgrade started the new application.
-module(tally_audit).
-behaviour(gen_server).

-export([start_link/0, started/0]).
-export([init/1, handle_call/3, handle_cast/2]).

start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

started() ->
    gen_server:call(?MODULE, started).

init([]) ->
    {ok, erlang:system_time(second)}.

handle_call(started, _From, Started) ->
    {reply, Started, Started}.

handle_cast(_Msg, State) ->
    {noreply, State}.
