%% The running total: a gen_server whose state must survive every hot upgrade.
-module(tally_counter).
-behaviour(gen_server).

-export([start_link/0, add/1, total/0]).
-export([init/1, handle_call/3, handle_cast/2, code_change/3]).

-record(state, {total = 0 :: integer()}).

start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

%% Adds N to the total and returns the new total.
add(N) when is_integer(N) ->
    gen_server:call(?MODULE, {add, N}).

total() ->
    gen_server:call(?MODULE, total).

init([]) ->
    {ok, #state{}}.

handle_call({add, N}, _From, State = #state{total = T}) ->
    {reply, T + N, State#state{total = T + N}};
handle_call(total, _From, State = #state{total = T}) ->
    {reply, T, State}.

handle_cast(_Msg, State) ->
    {noreply, State}.

code_change(_OldVsn, State, _Extra) ->
    {ok, State}.
