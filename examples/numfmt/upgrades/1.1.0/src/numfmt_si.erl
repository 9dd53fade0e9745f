%% New in numfmt 1.1.0: short forms with SI prefixes.
-module(numfmt_si).

-export([short/1]).

%% 12345 -> "12.3k", 999 -> "999".
short(N) when abs(N) >= 1000000 -> io_lib:format("~.1fM", [N / 1000000]);
short(N) when abs(N) >= 1000 -> io_lib:format("~.1fk", [N / 1000]);
short(N) -> integer_to_list(N).
