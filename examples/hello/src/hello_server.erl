%% A gen_server with state (a counter), so that hot upgrades can show
%% that state survives.
-module(hello_server).
-behaviour(gen_server).

-export([start_link/0, bump/0, count/0]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2,
         terminate/2, code_change/3]).

start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

%% Increments the counter and returns the new value.
bump() ->
    gen_server:call(?MODULE, bump).

%% Returns the current value of the counter.
count() ->
    gen_server:call(?MODULE, count).

init([]) ->
    {ok, #{count => 0}}.

handle_call(bump, _From, State = #{count := N}) ->
    {reply, N + 1, State#{count := N + 1}};
handle_call(count, _From, State = #{count := N}) ->
    {reply, N, State};
handle_call(_Request, _From, State) ->
    {reply, {error, unknown_call}, State}.

handle_cast(_Msg, State) ->
    {noreply, State}.

handle_info(_Info, State) ->
    {noreply, State}.

terminate(_Reason, _State) ->
    ok.

code_change(_OldVsn, State, _Extra) ->
    {ok, State}.
