import { distributedList, syncList, type ClusterSettings, type ReleaseLayout } from '../domain/host';
import { inDir, type Argv } from './shell';

/** Seconds a control command may take; `daemon` never returns for a broken release (ERLANG-NOTES). */
const TIMEOUT = '60';

/** What `releases` evaluates on a relx node. */
const WHICH_RELEASES = '[{V,S} || {_,V,_,S} <- release_handler:which_releases()].';

/**
 * Elixir run on a mix node by `bin/<app> rpc` (constant; CONTROL puts `to = "<vsn>";` before it): installs the release
 * `to` through release_handler, as relx's `upgrade`/`downgrade` do. Creates `releases/RELEASES` from the booted release
 * when there is none (a node not started by Ferry: mix makes none) and hands its releases to the running
 * release_handler, which read that file only when it started (its state's `releases` field, checked for its shape;
 * else release_handler is restarted, which Ferry's checks see as a restarted child); registers `releases/<to>` as
 * unpacked (CONTROL has put its files in place); then installs it with the node's effective configuration (see
 * `docs/mix-upgrades.md`): the release's build-time sys.config with its config providers (`config/runtime.exs`) run
 * on the node, in its environment, as they run at boot. release_handler reads `releases/<to>/sys.config` while it
 * installs, so that file holds the effective configuration only for that call (the build-time one is kept beside it
 * and put back, even when the install fails; a later boot runs runtime.exs again). Then makes `to` permanent (it
 * writes `releases/start_erl.data`, which the start script boots). Prints `<to> installed and made permanent`, or why
 * not on one line (CONTROL exits 4 then).
 * Repeatable: a node that already runs `to` is only made permanent. No `'` in it: CONTROL quotes it with `'`.
 */
const MIX_INSTALL = `try do
    root = :code.root_dir()
    rel = :filename.join(root, ~c"releases")
    {name, booted} = :init.script_id()
    if not File.exists?(:filename.join(rel, ~c"RELEASES")) do
      :ok = :release_handler.create_RELEASES(root, rel, :filename.join([rel, booted, name ++ ~c".rel"]), [])
      {:ok, [known]} = :file.consult(:filename.join(rel, ~c"RELEASES"))
      state = :sys.get_state(:release_handler)
      if elem(state, 0) == :state and is_list(elem(state, 4)) do
        :sys.replace_state(:release_handler, fn s -> put_elem(s, 4, known) end)
      else
        :ok = :supervisor.terminate_child(:sasl_sup, :release_handler)
        {:ok, _} = :supervisor.restart_child(:sasl_sup, :release_handler)
      end
    end
    vsn = String.to_charlist(to)
    releases = fn -> for {_, v, _, s} <- :release_handler.which_releases(), do: {v, s} end
    running = fn -> rs = releases.(); Enum.find_value(rs, fn {v, s} -> s == :current && v end) || Enum.find_value(rs, fn {v, s} -> s == :permanent && v end) end
    if not List.keymember?(releases.(), vsn, 0) do
      {:ok, ^vsn} = :release_handler.set_unpacked(:filename.join([rel, vsn, name ++ ~c".rel"]), [])
    end
    sys = :filename.join([rel, vsn, ~c"sys.config"])
    kept = sys ++ ~c".ferry-build"
    if File.exists?(kept), do: File.rename!(kept, sys)
    {:ok, [config]} = :file.consult(sys)
    {init, config} =
      case List.keyfind(config, :elixir, 0) do
        {:elixir, env} -> {Keyword.get(env, :config_provider_init), List.keystore(config, :elixir, 0, {:elixir, Keyword.delete(env, :config_provider_init)})}
        nil -> {nil, config}
      end
    effective =
      case init do
        %{providers: providers} -> Enum.reduce(providers, Config.Reader.merge(config, Map.get(init, :extra_config, [])), fn {m, s}, acc -> m.load(acc, s) end)
        _ -> config
      end
    result =
      if running.() == vsn do
        :already
      else
        File.rename!(sys, kept)
        try do
          File.write!(sys, :io_lib.format(~c"~p.~n", [effective]))
          :release_handler.install_release(vsn, [{:update_paths, true}])
        after
          File.rename!(kept, sys)
        end
      end
    case result do
      :already -> :ok
      {:ok, _, _} -> :ok
      other -> raise "install_release: #{inspect(other)}"
    end
    if List.keyfind(releases.(), vsn, 0) != {vsn, :permanent}, do: :ok = :release_handler.make_permanent(vsn)
    IO.puts("#{to} installed and made permanent")
rescue
  e -> IO.puts("release_handler could not install #{to}: #{Exception.message(e)}")
catch
  kind, reason -> IO.puts("release_handler could not install #{to}: #{inspect(kind)} #{inspect(reason)}")
end`;

/** Elixir run on a mix node by `bin/<app> rpc` (constant): prints what release_handler knows, as relx's eval of WHICH_RELEASES. */
const MIX_RELEASES = `IO.puts(:io_lib.format(~c"~p", [Enum.map(:release_handler.which_releases(), fn {_, v, _, s} -> {v, s} end)]))`;

/** Elixir run on a mix node by `bin/<app> rpc` (constant; CONTROL puts `erl = ~S"""<expression>""";` before it): evaluates
 *  one Erlang expression on the node and prints the result as relx's eval does. */
const MIX_ERLANG = `{:ok, tokens, _} = :erl_scan.string(String.to_charlist(erl))
{:ok, exprs} = :erl_parse.parse_exprs(tokens)
{:value, value, _} = :erl_eval.exprs(exprs, [])
IO.puts(:io_lib.format(~c"~p", [value]))`;

/** Elixir run by `bin/<app> eval` (a VM beside the node, constant) before a mix node starts: writes `releases/RELEASES`
 *  for the release it boots (mix writes none), so that release_handler knows the booted release and its libraries. */
const MIX_CREATE_RELEASES = `root = System.fetch_env!("RELEASE_ROOT")
rel = Path.join(root, "releases")
file = Path.join([rel, System.fetch_env!("RELEASE_VSN"), System.fetch_env!("RELEASE_NAME") <> ".rel"])
:ok = :release_handler.create_RELEASES(String.to_charlist(root), String.to_charlist(rel), String.to_charlist(file), [])`;

for (const program of [MIX_INSTALL, MIX_RELEASES, MIX_ERLANG, MIX_CREATE_RELEASES]) if (program.includes("'")) throw new Error('a mix program holds a single quote');

/**
 * Runs the release's control script, relx or mix, told apart on the host: only a mix release has `releases/COOKIE`.
 * A mix script has no `ping` and takes its node name from the environment, so for mix the name Ferry gave the node
 * (`-name` or `-sname` in the per-host vm.args `configure` writes) becomes RELEASE_NODE and RELEASE_DISTRIBUTION;
 * without one, mix's own defaults (or the release's env.sh) apply. `ping`, `ferry-releases`, `ferry-nodes` and
 * `ferry-erl` become `rpc` calls on the node, and `stop` waits until the node's OS process is gone (mix's `stop`
 * returns while the node still shuts down). `ferry-releases` prints `[{"<vsn>",permanent}]` (release_handler's view
 * when the node runs it, else the `RELEASE_VSN` it booted), `ferry-nodes` the node's own name then the nodes it is
 * connected to, and `ferry-erl EXPR` the value of one Erlang expression evaluated on the node, for both kinds.
 * `upgrade VSN TARBALL` and `downgrade VSN` are relx's own commands; for mix, `upgrade` puts the tarball's
 * `releases/<vsn>`, and its `lib` and `erts-*` directories the node does not have yet, in place (never `bin/`,
 * `releases/COOKIE` or `releases/start_erl.data`), then both run MIX_INSTALL on the node. A mix `daemon` first writes
 * `releases/RELEASES` anew for the version it boots (MIX_CREATE_RELEASES; `start_erl.data` names it): one left from
 * before would tell release_handler otherwise, and none would leave it without the booted release's libraries
 * (MIX_INSTALL then writes it).
 */
const CONTROL = [
  'root=$1; bin=$2; shift 2',
  'if [ -f "$root/releases/COOKIE" ]; then',
  '  named=$(sed -n -E "s/^[[:space:]]*-(s?name)[[:space:]]+([^[:space:]]+).*/\\1 \\2/p" "$root/ferry/vm.args" 2>/dev/null | head -n 1)',
  '  if [ -n "$named" ]; then RELEASE_DISTRIBUTION=${named%% *}; RELEASE_NODE=${named#* }; export RELEASE_NODE RELEASE_DISTRIBUTION; fi',
  '  case $1 in',
  '    ping) exec "$bin" rpc "IO.puts(:pong)" ;;',
  `    ferry-releases) exec "$bin" rpc 'if Process.whereis(:release_handler) do ${MIX_RELEASES} else IO.puts(~s([{"#{System.get_env("RELEASE_VSN")}",permanent}])) end' ;;`,
  '    ferry-nodes) exec "$bin" rpc "IO.inspect([node() | Node.list()])" ;;',
  `    ferry-erl) exec "$bin" rpc "$(printf 'erl = ~S"""\\n%s\\n"""\\n%s' "$2" '${MIX_ERLANG}')" ;;`,
  '    stop) pid=$("$bin" pid) && "$bin" stop && while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done; exit $? ;;',
  `    daemon) rm -f "$root/releases/RELEASES"; "$bin" eval '${MIX_CREATE_RELEASES}' >/dev/null 2>&1 || rm -f "$root/releases/RELEASES" ;;`,
  '    upgrade|downgrade)',
  '      case $2 in ""|*[!0-9A-Za-z.+~-]*) echo "not a version: $2" >&2; exit 2 ;; esac',
  '      if [ "$1" = upgrade ]; then',
  '        [ -f "$3" ] || { echo "no upgrade tarball $3" >&2; exit 2; }',
  '        stage=$root/releases/$2/.ferry-unpack',
  '        rm -rf "$stage" && mkdir -p "$stage" && tar -xzf "$3" -C "$stage" || exit 5',
  '        [ -f "$stage/releases/$2/relup" ] || { rm -rf "$stage"; echo "the tarball has no releases/$2/relup" >&2; exit 3; }',
  '        cp -a "$stage/releases/$2/." "$root/releases/$2/" || exit 5',
  '        for d in "$stage"/lib/* "$stage"/erts-*; do [ -e "$d" ] || continue; [ -e "$root/${d#"$stage"/}" ] || mv "$d" "$root/${d#"$stage"/}" || exit 5; done',
  '        rm -rf "$stage"',
  '      fi',
  `      out=$("$bin" rpc "to = \\"$2\\"; "'${MIX_INSTALL}' 2>&1); rc=$?; printf "%s\\n" "$out"; [ $rc = 0 ] || exit $rc`,
  '      case $out in *"$2 installed and made permanent"*) exit 0 ;; *) exit 4 ;; esac ;;',
  '  esac',
  'fi',
  'case $1 in',
  `  ferry-releases) set -- eval '${WHICH_RELEASES}' ;;`,
  "  ferry-nodes) set -- eval '[node()|nodes()].' ;;",
  '  ferry-erl) set -- eval "$2" ;;',
  '  upgrade|downgrade) set -- "$1" "$2" ;;',
  'esac',
  'exec "$bin" "$@"',
].join('\n');

/** The release's own control script (see CONTROL), with run_erl pipes under the deploy root instead of the shared /tmp. */
const script = (l: ReleaseLayout, ...args: string[]): Argv => control(l, TIMEOUT, ...args);

/** The control script (see CONTROL) with `args`, killed after `seconds`. */
export const control = (l: ReleaseLayout, seconds: number | string, ...args: string[]): Argv => [
  'timeout', String(seconds), 'env', `PIPE_DIR=${l.pipeDir}`, 'sh', '-c', CONTROL, 'control', l.root, l.bin, ...args,
];

export const start = (l: ReleaseLayout): Argv => script(l, 'daemon');
export const stop = (l: ReleaseLayout): Argv => script(l, 'stop');
export const ping = (l: ReleaseLayout): Argv => script(l, 'ping');

/** Prints `[{"0.1.0", permanent}]`: what the release handler knows (mix: the version it booted), read from the running node. */
export const releases = (l: ReleaseLayout): Argv => script(l, 'ferry-releases');

/** Reads `releases`' output: the version that is current (mid-upgrade) or else permanent. */
export function runningVersion(output: string): string | undefined {
  const found = [...output.matchAll(/\{"([^"]+)",\s*(\w+)\}/g)].map(([, v, s]) => ({ v: v!, s: s! }));
  return (found.find((r) => r.s === 'current') ?? found.find((r) => r.s === 'permanent'))?.v;
}

/** relx: evaluates one Erlang expression (with its trailing dot) on the running node and prints the result; it exits 0
 *  even when the expression fails (the output then starts with `{error,`). mix: evaluates Elixir in a new VM beside the
 *  node (the release's code loaded, the app not started) and exits non-zero when it raises. */
export const evaluate = (l: ReleaseLayout, expression: string): Argv => script(l, 'eval', expression);

/** Evaluates one Erlang expression (with its trailing dot) on the running node and prints the result with `~p`, relx
 *  (its eval) or mix (through `rpc`, see CONTROL). */
export const evaluateErlang = (l: ReleaseLayout, expression: string): Argv => script(l, 'ferry-erl', expression);

/** Prints the OS pid of the node. */
export const osPid = (l: ReleaseLayout): Argv => script(l, 'pid');

/**
 * relx's own rendering of `vm.args.src` (its start script's `replace_os_vars`): `${VAR}` becomes the variable's value
 * in the environment, `${VAR:-default}` the default when it is empty or unset.
 */
const RENDER = String.raw`awk '{
  while (match($0, "[$]{[^}]*}")) {
    var = substr($0, RSTART + 2, RLENGTH - 3)
    slen = split(var, arr, ":-")
    e = ENVIRON[arr[1]]
    gsub("&", "\\\\\\&", e)
    if (slen > 1 && e == "") { i = index(var, ":-" arr[2]); gsub("[$]{" var "}", substr(var, i + 2)) }
    else gsub("[$]{" var "}", e)
  }
}1' "$1"`;

/** What `configure` adds to the release's own vm.args; every field is optional. */
export interface NodeConfig {
  /** LINK_VM_ARGS: Ferry's vm.args includes this file (`-args_file`) instead of the release's vm.args. */
  linkVmArgs?: string;
  /** Take `-setcookie` from the cookie file Ferry wrote (`layout.cookie`) instead of the release's vm.args. */
  cookie?: boolean;
  /** More vm.args lines, e.g. `clusterArgs`. */
  extraArgs?: string[];
}

/**
 * Writes the per-host vm.args and links `<root>/vm.args` to it. Its lines: the release's `vm.args.src` (or `vm.args`)
 * rendered as relx renders it (see RENDER; with this session's environment and relx's REL_NAME, RELEASE_NAME,
 * RELEASE_VSN and ROOTDIR), or, with `linkVmArgs`, an `-args_file` line for that file and its `-setcookie` line (the
 * start script reads the cookie only from the top file); then the cookie from Ferry's cookie file and the extra lines.
 * With `nodeName`, the release's `-name`/`-sname` line is replaced by one for that name, in the release's mode: `-sname`
 * when the release uses `-sname` and the name's host has no dot (a short name cannot have one), else `-name`. Without
 * it the node keeps the release's name line. The start script prefers `<root>/vm.args` to `releases/<vsn>/vm.args`
 * and never re-renders it (it has no `.src`), so concurrent calls cannot race and every later version uses it
 * unchanged. Mode 0600: it can hold the cookie. Repeatable.
 */
export const configure = (l: ReleaseLayout, v: string, nodeName: string | undefined, c: NodeConfig = {}): Argv => [
  'sh',
  '-c',
  [
    'set -e',
    'root=$1; vsn=$2; rel=$1/releases/$2; name=$3; out=$4; link=$5; cookie=$6; shift 6',
    'mkdir -p "$(dirname "$out")"',
    'if [ -f "$rel/vm.args.src" ]; then src=$rel/vm.args.src; elif [ -f "$rel/vm.args" ]; then src=$rel/vm.args; else src=/dev/null; fi',
    `render() { ${RENDER}; }`,
    'REL_NAME=${root##*/}; RELEASE_NAME=$REL_NAME; RELEASE_VSN=$vsn; ROOTDIR=$root; export REL_NAME RELEASE_NAME RELEASE_VSN ROOTDIR',
    'drop=',
    'if [ -n "$name" ]; then drop="^[[:space:]]*-s?name([[:space:]]|\\$)"; fi',
    'if [ -n "$cookie" ]; then drop="${drop:+$drop|}^[[:space:]]*-setcookie([[:space:]]|\\$)"; fi',
    '{',
    '  if [ -n "$link" ]; then echo "-args_file $link"; [ -n "$cookie" ] || grep -E "^-setcookie[[:space:]]" "$link" || true',
    '  else',
    '    if [ -n "$name" ]; then',
    '      mode=$(render "$src" | sed -n -E "s/^[[:space:]]*(-s?name)[[:space:]].*/\\1/p" | head -n 1)',
    '      case $name in *@*.*) mode=-name ;; esac',
    '      echo "${mode:--name} $name"',
    '    fi',
    '    render "$src" | if [ -n "$drop" ]; then grep -v -E "$drop" || true; else cat; fi',
    '  fi',
    '  if [ -n "$cookie" ]; then echo "-setcookie $(cat "$cookie")"; fi',
    '  for line in "$@"; do printf "%s\\n" "$line"; done',
    '} > "$out.tmp"',
    'chmod 600 "$out.tmp"',
    'mv -f "$out.tmp" "$out"',
    'ln -sfn "$out" "$root/vm.args"',
  ].join('\n'),
  'configure',
  l.root,
  v,
  nodeName ?? '',
  l.vmArgs,
  c.linkVmArgs ?? '',
  c.cookie ? l.cookie : '',
  ...(c.extraArgs ?? []),
];

/**
 * vm.args lines for the kernel's boot-time sync with the other nodes of the cluster (`-kernel sync_nodes_optional`
 * or `sync_nodes_mandatory`, and `sync_nodes_timeout`). The list is double-quoted: erl's args-file reader drops quotes.
 */
export const clusterArgs = (cluster: ClusterSettings, self: string, app?: string): string[] => [
  `-kernel sync_nodes_${cluster.mode} "${syncList(cluster, self)}"`,
  `-kernel sync_nodes_timeout ${cluster.timeoutMs}`,
  ...(cluster.distributed && app !== undefined ? [`-kernel distributed "${distributedList(cluster, app, cluster.distributed.failoverMs)}"`] : []),
];

/** Prints `ok <path>` or `missing <path>` for each file: the check before a per-host config file is linked. */
export const checkFiles = (paths: string[]): Argv => [
  'sh',
  '-c',
  'for f in "$@"; do if [ -f "$f" ]; then echo "ok $f"; else echo "missing $f"; fi; done',
  'check-files',
  ...paths,
];

/** Reads `checkFiles`' output: the paths that are missing. */
export const missingFiles = (output: string): string[] =>
  output.split('\n').flatMap((line) => (line.startsWith('missing ') ? [line.slice('missing '.length)] : []));

/** Prints the node name that a vm.args file gives with `-name` or `-sname`, or nothing. */
export const nameIn = (vmArgs: string): Argv => [
  'sh',
  '-c',
  'sed -n -E "s/^[[:space:]]*-s?name[[:space:]]+([^[:space:]]+).*/\\1/p" "$1" | head -n 1',
  'name-in',
  vmArgs,
];

/**
 * Replaces `releases/<vsn>/<file>` (vm.args or sys.config) by a link to a per-host file, as edeliver's LINK_VM_ARGS and
 * LINK_SYS_CONFIG do, and removes `<file>.src`, which the start script would otherwise render through the link into
 * the per-host file. Repeatable.
 */
export const linkReleaseFile = (l: ReleaseLayout, v: string, file: 'vm.args' | 'sys.config', target: string): Argv => [
  'sh',
  '-c',
  'set -e; rm -f "$1.src"; ln -sfn "$2" "$1"',
  'link-config',
  `${l.releaseDir(v)}/${file}`,
  target,
];

/** Writes stdin (the cookie) to the node's cookie file, mode 0400, through a temp file. Repeatable. */
export const writeCookie = (l: ReleaseLayout): Argv => [
  'sh',
  '-c',
  'set -e; mkdir -p "$(dirname "$1")"; rm -f "$1.tmp"; (umask 377; cat > "$1.tmp"); mv -f "$1.tmp" "$1"',
  'write-cookie',
  l.cookie,
];

/** Prints the running node's own name, then the nodes it is connected to: `['self@h','a@h','b@h']` (relx or mix). */
export const clusterView = (l: ReleaseLayout): Argv => script(l, 'ferry-nodes');

/** Reads `clusterView`'s output: the node's own name and the nodes it sees, sorted; undefined when it names none. */
export function parseClusterView(output: string): { node: string; sees: string[] } | undefined {
  const [node, ...sees] = [...output.matchAll(/[A-Za-z0-9_-]+@[A-Za-z0-9.-]*[A-Za-z0-9-]/g)].map((m) => m[0]);
  return node === undefined ? undefined : { node, sees: sees.sort() };
}

/**
 * Hot-upgrades the running node to `v` from `releases/<v>/<app>.tar.gz`; 300 s at most: relx's `bin/<app> upgrade`, or
 * for mix release_handler through `rpc` (see CONTROL). Its exit code alone proves nothing.
 */
export const upgrade = (l: ReleaseLayout, v: string): Argv => control(l, 300, 'upgrade', v, l.tarball(v));

/** Hot-downgrades the running node back to `v` (an installed version); 300 s at most (relx's `downgrade`, or as `upgrade` for mix). */
export const downgrade = (l: ReleaseLayout, v: string): Argv => control(l, 300, 'downgrade', v);

/** Reads `osPid`'s output: the OS pid of the node, or undefined. */
export function parsePid(output: string): number | undefined {
  const m = /^\s*(\d+)\s*$/m.exec(output);
  return m ? Number(m[1]) : undefined;
}

/** A rollout's health command: run in the app's deploy root, `timeoutSeconds` at most, its argv quoted when sent. */
export const healthCommand = (l: ReleaseLayout, argv: Argv, timeoutSeconds: number): string =>
  inDir(l.root, ['timeout', String(Math.max(1, Math.ceil(timeoutSeconds))), ...argv]);
