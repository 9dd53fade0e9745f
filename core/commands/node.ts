import type { ReleaseLayout } from '../domain/host';
import type { Argv } from './shell';

/** Seconds a control command may take; `daemon` never returns for a broken release (ERLANG-NOTES). */
const TIMEOUT = '60';

/** What `releases` evaluates on a relx node. */
const WHICH_RELEASES = '[{V,S} || {_,V,_,S} <- release_handler:which_releases()].';

/**
 * Runs the release's control script, relx or mix, told apart on the host: only a mix release has `releases/COOKIE`.
 * A mix script has no `ping` and takes its node name from the environment, so for mix the node name is read from the
 * per-host vm.args Ferry writes (`configure`), `ping` and `ferry-releases` become `rpc` calls on the node, and `stop`
 * waits until the node's OS process is gone (mix's `stop` returns while the node still shuts down).
 * `ferry-releases` prints `[{"<vsn>",permanent}]` for both kinds.
 */
const CONTROL = [
  'root=$1; bin=$2; shift 2',
  'if [ -f "$root/releases/COOKIE" ]; then',
  '  RELEASE_NODE=$(sed -n "s/^-name //p" "$root/ferry/vm.args" 2>/dev/null | head -n 1)',
  '  RELEASE_DISTRIBUTION=name; export RELEASE_NODE RELEASE_DISTRIBUTION',
  '  case $1 in',
  '    ping) exec "$bin" rpc "IO.puts(:pong)" ;;',
  '    ferry-releases) exec "$bin" rpc \'IO.puts(~s([{"#{System.get_env("RELEASE_VSN")}",permanent}]))\' ;;',
  '    stop) pid=$("$bin" pid) && "$bin" stop && while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done; exit $? ;;',
  '  esac',
  'fi',
  `if [ "$1" = ferry-releases ]; then set -- eval '${WHICH_RELEASES}'; fi`,
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
 * Writes the per-host vm.args (the release's own, with its node name replaced) and links `<root>/vm.args` to it.
 * The start script prefers that file to `releases/<vsn>/vm.args` and never re-renders it (it has no `.src`), so
 * concurrent calls cannot race and every later version uses it unchanged. Repeatable.
 */
export const configure = (l: ReleaseLayout, v: string, nodeName: string): Argv => [
  'sh',
  '-c',
  [
    'set -e',
    'rel=$1/releases/$2; out=$4',
    'mkdir -p "$(dirname "$out")"',
    'if [ -f "$rel/vm.args.src" ]; then src=$rel/vm.args.src; elif [ -f "$rel/vm.args" ]; then src=$rel/vm.args; else src=/dev/null; fi',
    '{ echo "-name $3"; grep -v -E "^[[:space:]]*-s?name([[:space:]]|$)" "$src" || true; } > "$out.tmp"',
    'mv -f "$out.tmp" "$out"',
    'ln -sfn "$out" "$1/vm.args"',
  ].join('\n'),
  'configure',
  l.root,
  v,
  nodeName,
  l.vmArgs,
];

/** Hot-upgrades the running node to `v` from `releases/<v>/<app>.tar.gz`; 300 s at most. Its exit code alone proves nothing. */
export const upgrade = (l: ReleaseLayout, v: string): Argv => ['timeout', '300', 'env', `PIPE_DIR=${l.pipeDir}`, l.bin, 'upgrade', v];

/** Hot-downgrades the running node back to `v` (an installed version); 300 s at most. */
export const downgrade = (l: ReleaseLayout, v: string): Argv => ['timeout', '300', 'env', `PIPE_DIR=${l.pipeDir}`, l.bin, 'downgrade', v];

/** Reads `osPid`'s output: the OS pid of the node, or undefined. */
export function parsePid(output: string): number | undefined {
  const m = /^\s*(\d+)\s*$/m.exec(output);
  return m ? Number(m[1]) : undefined;
}
