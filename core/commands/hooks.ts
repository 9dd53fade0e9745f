import type { HookName, HookVariables } from '../domain/hooks';
import type { Argv } from './shell';

/**
 * What a hook runs in: edeliver's helpers that hooks call. `__sync_remote` and `__remote` run their argument here,
 * since Ferry already runs the hook on the host where its step happens; the output helpers print; `error` fails.
 * Then the hook's own function text (`$2`) is defined and its name (`$1`) called, with `set -e`.
 */
const PRELUDE = `__sync_remote() { bash -c "$1"; }
__remote() { bash -c "$1"; }
__exec_if_defined() { local f=$1; shift; if declare -F "$f" >/dev/null; then "$f" "$@"; fi; }
status() { echo "-----> $*"; }
info() { echo "$*"; }
hint_message() { echo "$*"; }
warning() { echo "$*" >&2; }
error_message() { echo "$*" >&2; }
error() { echo "$*" >&2; exit 1; }
set -e
eval "$2"
"$1"`;

/** Runs one hook function with `vars` in its environment: `env K=V ... bash -c PRELUDE <name> <name> <function text>`. */
export const runHook = (name: HookName, text: string, vars: HookVariables): Argv => [
  'env',
  ...Object.entries(vars).map(([k, v]) => `${k}=${v}`),
  'bash',
  '-c',
  PRELUDE,
  name,
  name,
  text,
];
