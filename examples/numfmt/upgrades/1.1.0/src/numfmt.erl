-module(numfmt).

-export([thousands/1, thousands/2]).

%% An integer with its thousands separated by commas: 12345 -> "12,345".
thousands(N) ->
    thousands(N, $,).

%% The same with another separator (new in 1.1.0).
thousands(N, Sep) when N < 0 ->
    [$- | thousands(-N, Sep)];
thousands(N, Sep) ->
    group(lists:reverse(integer_to_list(N)), Sep).

group([A, B, C, D | Rest], Sep) ->
    group([D | Rest], Sep) ++ [Sep, C, B, A];
group(Digits, _Sep) ->
    lists:reverse(Digits).
