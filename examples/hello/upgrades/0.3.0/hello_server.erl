%% A gen_server with state (a counter), so that hot upgrades can show
%% that state survives. Since 0.3.0 the state is a record that also counts
%% the hot upgrades the process went through; code_change/3 converts the
%% 0.2.0 map into it and back (downgrade).
-module(hello_server).
-behaviour(gen_server).

-export([start_link/0, bump/0, count/0, upgrades/0]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2,
         terminate/2, code_change/3]).

-record(state, {count = 0 :: non_neg_integer(),
                upgrades = 0 :: non_neg_integer()}).

start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

%% Increments the counter and returns the new value.
bump() ->
    gen_server:call(?MODULE, bump).

%% Returns the current value of the counter.
count() ->
    gen_server:call(?MODULE, count).

%% How many hot upgrades this process went through (new in 0.3.0).
upgrades() ->
    gen_server:call(?MODULE, upgrades).

init([]) ->
    {ok, #state{}}.

handle_call(bump, _From, State = #state{count = N}) ->
    {reply, N + 1, State#state{count = N + 1}};
handle_call(count, _From, State = #state{count = N}) ->
    {reply, N, State};
handle_call(upgrades, _From, State = #state{upgrades = U}) ->
    {reply, U, State};
handle_call(_Request, _From, State) ->
    {reply, {error, unknown_call}, State}.

handle_cast(_Msg, State) ->
    {noreply, State}.

handle_info(_Info, State) ->
    {noreply, State}.

terminate(_Reason, _State) ->
    ok.

%% OldVsn is the module's -vsn (an md5), not the release version: match on the state's shape.
code_change({down, _OldVsn}, #state{count = N}, _Extra) ->
    {ok, #{count => N}};
code_change(_OldVsn, #{count := N}, _Extra) ->
    {ok, #state{count = N, upgrades = 1}};
code_change(_OldVsn, State = #state{upgrades = U}, _Extra) ->
    {ok, State#state{upgrades = U + 1}}.
