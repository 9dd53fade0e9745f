import { distributedList, syncList, type ClusterSettings, type ReleaseLayout } from '../domain/host';
import { inDir, type Argv } from './shell';

/** Seconds a control command may take; `daemon` never returns for a broken release (ERLANG-NOTES). */
const TIMEOUT = '60';

/** What `releases` evaluates on a relx node. */
const WHICH_RELEASES = '[{V,S} || {_,V,_,S} <- release_handler:which_releases()].';

/**
 * Runs the release's control script, relx or mix, told apart on the host: only a mix release has `releases/COOKIE`.
 * A mix script has no `ping` and takes its node name from the environment, so for mix the name Ferry gave the node
 * (`-name` or `-sname` in the per-host vm.args `configure` writes) becomes RELEASE_NODE and RELEASE_DISTRIBUTION;
 * without one, mix's own defaults (or the release's env.sh) apply. `ping`, `ferry-releases` and `ferry-nodes` become
 * `rpc` calls on the node, and `stop` waits until the node's OS process is gone (mix's `stop` returns while the node
 * still shuts down). `ferry-releases` prints `[{"<vsn>",permanent}]` and `ferry-nodes` the node's own name then the
 * nodes it is connected to, for both kinds.
 */
const CONTROL = [
  'root=$1; bin=$2; shift 2',
  'if [ -f "$root/releases/COOKIE" ]; then',
  '  named=$(sed -n -E "s/^[[:space:]]*-(s?name)[[:space:]]+([^[:space:]]+).*/\\1 \\2/p" "$root/ferry/vm.args" 2>/dev/null | head -n 1)',
  '  if [ -n "$named" ]; then RELEASE_DISTRIBUTION=${named%% *}; RELEASE_NODE=${named#* }; export RELEASE_NODE RELEASE_DISTRIBUTION; fi',
  '  case $1 in',
  '    ping) exec "$bin" rpc "IO.puts(:pong)" ;;',
  '    ferry-releases) exec "$bin" rpc \'IO.puts(~s([{"#{System.get_env("RELEASE_VSN")}",permanent}]))\' ;;',
  '    ferry-nodes) exec "$bin" rpc "IO.inspect([node() | Node.list()])" ;;',
  '    stop) pid=$("$bin" pid) && "$bin" stop && while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done; exit $? ;;',
  '  esac',
  'fi',
  'case $1 in',
  `  ferry-releases) set -- eval '${WHICH_RELEASES}' ;;`,
  "  ferry-nodes) set -- eval '[node()|nodes()].' ;;",
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

/** Hot-upgrades the running node to `v` from `releases/<v>/<app>.tar.gz`; 300 s at most. Its exit code alone proves nothing. */
export const upgrade = (l: ReleaseLayout, v: string): Argv => ['timeout', '300', 'env', `PIPE_DIR=${l.pipeDir}`, l.bin, 'upgrade', v];

/** Hot-downgrades the running node back to `v` (an installed version); 300 s at most. */
export const downgrade = (l: ReleaseLayout, v: string): Argv => ['timeout', '300', 'env', `PIPE_DIR=${l.pipeDir}`, l.bin, 'downgrade', v];

/** Reads `osPid`'s output: the OS pid of the node, or undefined. */
export function parsePid(output: string): number | undefined {
  const m = /^\s*(\d+)\s*$/m.exec(output);
  return m ? Number(m[1]) : undefined;
}

/** A rollout's health command: run in the app's deploy root, `timeoutSeconds` at most, its argv quoted when sent. */
export const healthCommand = (l: ReleaseLayout, argv: Argv, timeoutSeconds: number): string =>
  inDir(l.root, ['timeout', String(Math.max(1, Math.ceil(timeoutSeconds))), ...argv]);
