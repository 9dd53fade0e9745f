%% A process that is new in 0.4.0: it counts ticks, one a second. A hot upgrade from 0.3.0 adds it to
%% hello_sup's children and starts it (the generated appup does both); hello_server keeps its state.
%% It calls hello (changed in 0.4.0 too), so the generated appup names hello as its dependency.
-module(hello_ticker).
-behaviour(gen_server).

-export([start_link/0, ticks/0]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2,
         terminate/2, code_change/3]).

-define(INTERVAL, 1000).

start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

%% How many ticks since the process started.
ticks() ->
    gen_server:call(?MODULE, ticks).

init([]) ->
    erlang:send_after(?INTERVAL, self(), tick),
    {ok, #{ticks => 0, greeting => hello:greeting()}}.

handle_call(ticks, _From, State = #{ticks := N}) ->
    {reply, N, State};
handle_call(_Request, _From, State) ->
    {reply, {error, unknown_call}, State}.

handle_cast(_Msg, State) ->
    {noreply, State}.

handle_info(tick, State = #{ticks := N}) ->
    erlang:send_after(?INTERVAL, self(), tick),
    {noreply, State#{ticks := N + 1}};
handle_info(_Info, State) ->
    {noreply, State}.

terminate(_Reason, _State) ->
    ok.

code_change(_OldVsn, State, _Extra) ->
    {ok, State}.
