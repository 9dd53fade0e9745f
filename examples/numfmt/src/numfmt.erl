-module(numfmt).

-export([thousands/1]).

%% An integer with its thousands separated by commas: 12345 -> "12,345".
thousands(N) when N < 0 ->
    [$- | thousands(-N)];
thousands(N) ->
    group(lists:reverse(integer_to_list(N))).

group([A, B, C, D | Rest]) ->
    group([D | Rest]) ++ [$,, C, B, A];
group(Digits) ->
    lists:reverse(Digits).
