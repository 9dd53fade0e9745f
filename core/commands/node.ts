import type { ReleaseLayout } from '../domain/host';
import { inDir, type Argv } from './shell';

/** Seconds a control command may take; `daemon` never returns for a broken release (ERLANG-NOTES). */
const TIMEOUT = '60';

/** The release's own control script, with run_erl pipes under the deploy root instead of the shared /tmp. */
const script = (l: ReleaseLayout, ...args: string[]): Argv => ['timeout', TIMEOUT, 'env', `PIPE_DIR=${l.pipeDir}`, l.bin, ...args];

export const start = (l: ReleaseLayout): Argv => script(l, 'daemon');
export const stop = (l: ReleaseLayout): Argv => script(l, 'stop');
export const ping = (l: ReleaseLayout): Argv => script(l, 'ping');

/** Prints `[{"0.1.0", permanent}]`: what the release handler knows, read from the running node. */
export const releases = (l: ReleaseLayout): Argv => script(l, 'eval', '[{V,S} || {_,V,_,S} <- release_handler:which_releases()].');

/** Reads `releases`' output: the version that is current (mid-upgrade) or else permanent. */
export function runningVersion(output: string): string | undefined {
  const found = [...output.matchAll(/\{"([^"]+)",\s*(\w+)\}/g)].map(([, v, s]) => ({ v: v!, s: s! }));
  return (found.find((r) => r.s === 'current') ?? found.find((r) => r.s === 'permanent'))?.v;
}

/** Evaluates one Erlang expression (with its trailing dot) on the running node and prints the result. It exits 0 even
 *  when the expression fails (the output then starts with `{error,`). */
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

/** A rollout's health command: run in the app's deploy root, `timeoutSeconds` at most, its argv quoted when sent. */
export const healthCommand = (l: ReleaseLayout, argv: Argv, timeoutSeconds: number): string =>
  inDir(l.root, ['timeout', String(Math.max(1, Math.ceil(timeoutSeconds))), ...argv]);
