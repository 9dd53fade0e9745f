-module(tally_report).

-export([summary/0]).

%% The tally as a line of text, e.g. <<"Grand total: 12 345 (12.3k)">>.
summary() ->
    {ok, Heading} = application:get_env(tally_report, heading),
    T = tally_counter:total(),
    iolist_to_binary([Heading, ": ", numfmt:thousands(T, $\s), " (", numfmt_si:short(T), ")"]).
