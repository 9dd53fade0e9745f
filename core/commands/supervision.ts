import type { ReleaseLayout } from '../domain/host';
import type { NodeSupervision } from '../domain/supervision';
import { evaluateErlang } from './node';
import type { Argv } from './shell';

/**
 * The Erlang expression `supervision` evaluates on the node; constant (no value is spliced into it). It prints a list
 * of short strings, each a fact: `release <vsn>`, `expected <app>` (an application the running release's boot script
 * starts: not `load`-only, not included by another), `running <app>`, `child <app> <key> <pid>` for each application's top supervisor and
 * every child with an id below it (supervisors are walked with a 5 s call each, 20 levels at most), and from the
 * release's relup `intended-app <app>` (application stop/start/load/unload) and `intended-child <sup>/<id>`
 * (supervisor terminate/restart/delete_child). Every character outside printable ASCII, and `"` and backslash, becomes
 * `_`; the text has no backslash of its own, because the release script passes it through `echo`.
 */
const SUPERVISION = `begin
  Clean = fun(T) -> [case C >= 33 andalso C =< 126 andalso C =/= 34 andalso C =/= 92 of true -> C; false -> $_ end || C <- lists:flatten(T)] end,
  Text = fun(T) -> Clean(io_lib:format("~w", [T])) end,
  Rels = release_handler:which_releases(),
  [Vsn | _] = [V || {_, V, _, current} <- Rels] ++ [V || {_, V, _, permanent} <- Rels],
  Dir = filename:join([code:root_dir(), "releases", Vsn]),
  {ok, Boot} = file:read_file(filename:join(Dir, "start.boot")),
  {script, _, Script} = binary_to_term(Boot),
  Expected = [A || {apply, {application, start_boot, [A | _]}} <- Script],
  Running = [A || {A, _, _} <- application:which_applications()],
  Reg = fun(P, Default) -> case erlang:process_info(P, registered_name) of {registered_name, R} -> atom_to_list(R); _ -> Default end end,
  Walk = fun W(App, Sup, Key, Depth) when Depth < 20 ->
               Kids = try gen_server:call(Sup, which_children, 5000) catch _:_ -> [] end,
               lists:append([["child " ++ atom_to_list(App) ++ " " ++ Key ++ "/" ++ Text(Id) ++ " " ++ Text(P)
                              | case T of supervisor when is_pid(P) -> W(App, P, Reg(P, Key ++ "/" ++ Text(Id)), Depth + 1); _ -> [] end]
                             || {Id, P, T, _} <- Kids, Id =/= undefined]);
             W(_, _, _, _) -> []
         end,
  Top = fun(A) -> try application_master:get_child(application_controller:get_master(A)) of {P, _} when is_pid(P) -> P; _ -> undefined catch _:_ -> undefined end end,
  Children = lists:append([case Top(A) of undefined -> []; P -> ["child " ++ atom_to_list(A) ++ " " ++ atom_to_list(A) ++ " " ++ Text(P) | Walk(A, P, Reg(P, atom_to_list(A)), 0)] end
                           || A <- Running, lists:member(A, Expected)]),
  Ups = case file:consult(filename:join(Dir, "relup")) of {ok, [{_, U, _}]} -> lists:append([I || {_, _, I} <- U]); _ -> [] end,
  Intended = lists:append([case I of
                             {apply, {application, F, [A | _]}} when F =:= stop; F =:= start; F =:= load; F =:= unload -> ["intended-app " ++ Text(A)];
                             {apply, {supervisor, F, [S, Id | _]}} when F =:= terminate_child; F =:= restart_child; F =:= delete_child -> ["intended-child " ++ Text(S) ++ "/" ++ Text(Id)];
                             _ -> []
                           end || I <- Ups]),
  ["release " ++ Clean(Vsn)] ++ ["expected " ++ Text(A) || A <- Expected] ++ ["running " ++ Text(A) || A <- Running] ++ Children ++ Intended
end.`;

/** Prints the node's release, applications and supervision trees (see SUPERVISION); read with `parseSupervision`. Read-only. */
export const supervision = (l: ReleaseLayout): Argv => evaluateErlang(l, SUPERVISION);

/** Reads `supervision`'s output; undefined when it is not such a list (the expression failed, or the node did not answer). */
export function parseSupervision(output: string): NodeSupervision | undefined {
  const facts = [...output.matchAll(/"([^"]*)"/g)].map((m) => m[1]!.split(' '));
  const release = facts.find(([kind]) => kind === 'release')?.[1];
  if (release === undefined) return undefined;
  const s: NodeSupervision = { release, expected: [], running: [], children: {}, intended: { apps: [], children: [] } };
  for (const [kind, a = '', b = '', c = ''] of facts) {
    if (kind === 'expected') s.expected.push(a);
    else if (kind === 'running') s.running.push(a);
    else if (kind === 'child') s.children[b] = { app: a, pid: c };
    else if (kind === 'intended-app') s.intended.apps.push(a);
    else if (kind === 'intended-child') s.intended.children.push(a);
  }
  return s;
}
