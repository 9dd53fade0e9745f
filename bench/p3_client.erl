#!/usr/bin/env escript
%% -*- erlang -*-
%% The benchmark's availability probe (P3): a hidden Erlang node that calls every node of the example release
%% every INTERVAL ms and counts calls, failed calls and the longest time without an answer.
%%
%% Usage: ERL_FLAGS="-name NAME@127.0.0.1 -hidden -setcookie COOKIE" escript bench/p3_client.erl INTERVAL_MS NODE...
%%
%% Each call is hello:version() and then hello_server:bump() on the node (erpc, 1 s timeout each): the module a hot
%% upgrade reloads, and a gen_server whose state the upgrade converts while the process is suspended. A bump that
%% does not answer one more than the last one means the counter was lost (the node restarted). Once every node
%% answered (and gave its OS pid), it prints `ready`; it probes until a line (or end of file) arrives on stdin, then
%% prints one JSON object per node: {"node", "calls", "failed", "longestGapMs", "versions" (in the order seen),
%% "stateResets", "pidBefore", "pidAfter", "firstError"}.
-mode(compile).

main([IntervalArg | Names]) when Names =/= [] ->
    Interval = list_to_integer(IntervalArg),
    Nodes = [list_to_atom(N) || N <- Names],
    Before = [{N, wait_pid(N, now_ms() + 60000)} || N <- Nodes],
    Self = self(),
    Probes = [spawn_link(fun() -> probe(Self, N, Interval) end) || N <- Nodes],
    io:format("ready~n"),
    _ = io:get_line(""),
    [P ! stop || P <- Probes],
    Results = [receive {result, P, R} -> R end || P <- Probes],
    lists:foreach(
        fun({{Node, PidBefore}, R}) -> io:format("~s~n", [json(Node, PidBefore, os_pid(Node), R)]) end,
        lists:zip(Before, Results)),
    halt(0);
main(_) ->
    io:format(standard_error, "usage: escript p3_client.erl INTERVAL_MS NODE...~n", []),
    halt(64).

now_ms() -> erlang:monotonic_time(millisecond).

os_pid(Node) ->
    try erpc:call(Node, os, getpid, [], 5000) catch _:_ -> "" end.

wait_pid(Node, Deadline) ->
    case os_pid(Node) of
        "" ->
            case now_ms() > Deadline of
                true ->
                    io:format(standard_error, "~s does not answer~n", [Node]),
                    halt(2);
                false ->
                    timer:sleep(200),
                    wait_pid(Node, Deadline)
            end;
        Pid -> Pid
    end.

probe(Parent, Node, Interval) ->
    Now = now_ms(),
    loop(#{parent => Parent, node => Node, interval => Interval, calls => 0, failed => 0, last_ok => Now, gap => 0,
           versions => [], count => none, resets => 0, first_error => none, next => Now}).

loop(S = #{node := Node, interval := Interval, next := Next, calls := Calls}) ->
    receive
        stop -> finish(S)
    after max(0, Next - now_ms()) ->
        Start = now_ms(),
        Answer = try {erpc:call(Node, hello, version, [], 1000), erpc:call(Node, hello_server, bump, [], 1000)}
                 catch Class:Reason -> {error, Class, Reason} end,
        S1 = case Answer of
                 {V, N} when is_binary(V), is_integer(N) -> counted(answered(S, V, now_ms()), N);
                 Err -> failed(S, Err)
             end,
        loop(S1#{calls := Calls + 1, next := Start + Interval})
    end.

answered(S = #{last_ok := Last, gap := Gap, versions := Vs}, V, Now) ->
    Seen = case Vs of
               [V | _] -> Vs;
               _ -> [V | Vs]
           end,
    S#{last_ok := Now, gap := max(Gap, Now - Last), versions := Seen}.

counted(S = #{count := Last, resets := R}, N) ->
    Reset = case Last of none -> 0; _ when N =:= Last + 1 -> 0; _ -> 1 end,
    S#{count := N, resets := R + Reset}.

failed(S = #{failed := F, first_error := First}, Err) ->
    S#{failed := F + 1, first_error := case First of none -> Err; _ -> First end}.

finish(S = #{parent := Parent, last_ok := Last, gap := Gap}) ->
    %% a node that has not answered since its last success counts up to now
    Parent ! {result, self(), S#{gap := max(Gap, now_ms() - Last)}}.

json(Node, PidBefore, PidAfter, #{calls := Calls, failed := Failed, gap := Gap, versions := Vs, resets := Resets, first_error := E}) ->
    Error = case E of none -> "null"; _ -> str(io_lib:format("~0p", [E])) end,
    io_lib:format("{\"node\":~s,\"calls\":~b,\"failed\":~b,\"longestGapMs\":~b,\"versions\":[~s],\"stateResets\":~b,\"pidBefore\":~s,\"pidAfter\":~s,\"firstError\":~s}",
                  [str(atom_to_list(Node)), Calls, Failed, Gap, lists:join(",", [str(binary_to_list(V)) || V <- lists:reverse(Vs)]),
                   Resets, str(PidBefore), str(PidAfter), Error]).

%% A JSON string of printable text.
str(Chars) ->
    Flat = lists:flatten(Chars),
    Short = case length(Flat) > 300 of true -> lists:sublist(Flat, 300) ++ "..."; false -> Flat end,
    [$", [esc(C) || C <- Short], $"].

esc($") -> "\\\"";
esc($\\) -> "\\\\";
esc(C) when C < 32; C > 126 -> " ";
esc(C) -> C.
