%% The running total: a gen_server whose state must survive every hot upgrade. Since tally_core 0.2.0 it also
%% counts the additions; code_change/3 converts 0.1.0's state (and back, on a downgrade), keeping the total.
-module(tally_counter).
-behaviour(gen_server).

-export([start_link/0, add/1, total/0, adds/0]).
-export([init/1, handle_call/3, handle_cast/2, code_change/3]).

-record(state, {total = 0 :: integer(), adds = 0 :: non_neg_integer()}).

start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

%% Adds N to the total and returns the new total.
add(N) when is_integer(N) ->
    gen_server:call(?MODULE, {add, N}).

total() ->
    gen_server:call(?MODULE, total).

%% How many additions since this process started, or since the upgrade to 0.2.0.
adds() ->
    gen_server:call(?MODULE, adds).

init([]) ->
    {ok, #state{}}.

handle_call({add, N}, _From, State = #state{total = T, adds = A}) ->
    {reply, T + N, State#state{total = T + N, adds = A + 1}};
handle_call(total, _From, State = #state{total = T}) ->
    {reply, T, State};
handle_call(adds, _From, State = #state{adds = A}) ->
    {reply, A, State}.

handle_cast(_Msg, State) ->
    {noreply, State}.

%% OldVsn is the module's -vsn (an md5), not the application's: match on the state's shape.
code_change({down, _OldVsn}, #state{total = T}, _Extra) ->
    {ok, {state, T}};
code_change(_OldVsn, {state, T}, _Extra) ->
    {ok, #state{total = T}};
code_change(_OldVsn, State, _Extra) ->
    {ok, State}.
