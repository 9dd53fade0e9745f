import type { ReleaseLayout } from '../domain/host';
import * as node from './node';
import type { Argv } from './shell';

/** Where Ferry keeps migration records and the lock on a host: under the release root's `ferry/`. */
export const migrationsDir = (l: ReleaseLayout): string => `${l.root}/ferry`;

/** The first line `once` prints: whether the command ran now or an earlier attempt's record was found. */
export const RAN = 'ferry-migrate: ran';
export const RECORDED = 'ferry-migrate: recorded';
/** The exit code `once` gives when another run holds the lock. */
export const LOCKED_EXIT = 75;

/**
 * Runs a command at most once per key, never two at a time, on one host:
 * - `flock` on `<dir>/migrate.lock` (the kernel drops it when its holder dies, so it cannot go stale; the command
 *   inherits it, so it is held while the command runs even when the shell is gone);
 * - when another run holds it, exits LOCKED_EXIT naming the holder; when an earlier attempt of the same key holds it,
 *   waits for it;
 * - with the lock, a record `<dir>/migrations/<key>.done` means the work is done: its output is printed, nothing runs;
 * - otherwise the command runs (hang-ups ignored: a dropped SSH session does not stop it halfway), and on success its
 *   output becomes the record. A failure (non-zero exit, or relx eval's `{error,...` answer) leaves no record.
 */
const ONCE = [
  'd=$1; key=$2; shift 2',
  'rec=$d/migrations/$key.done; out=$d/migrations/$key.out',
  'mkdir -p "$d/migrations" || exit 1',
  'exec 9>>"$d/migrate.lock"',
  'until flock -n 9; do',
  '  holder=$(cat "$d/migrate.owner" 2>/dev/null)',
  `  case $holder in "$key "*) sleep 1 ;; *) echo "migrations on this host are locked by \${holder:-another run}" >&2; exit ${LOCKED_EXIT} ;; esac`,
  'done',
  `if [ -f "$rec" ]; then echo '${RECORDED}'; cat "$rec"; exit 0; fi`,
  'echo "$key since $(date -u +%Y-%m-%dT%H:%M:%SZ) (pid $$)" > "$d/migrate.owner"',
  "trap '' HUP PIPE",
  '"$@" > "$out" 2>&1; rc=$?',
  'if [ $rc -eq 0 ] && ! head -n 1 "$out" | grep -q "^{error,"; then',
  `  mv -f "$out" "$rec" && echo '${RAN}' && cat "$rec"; exit 0`,
  'fi',
  'cat "$out"; rm -f "$out"; [ $rc -eq 0 ] && rc=1; exit $rc',
].join('\n');

/** `once` around `command` (see ONCE), keyed by `key` (already reduced to `[A-Za-z0-9._@-]`). */
export const once = (l: ReleaseLayout, key: string, command: Argv): Argv => ['sh', '-c', ONCE, 'migrate-once', migrationsDir(l), key, ...command];

/** `bin/<app> eval <expression>`, with up to an hour for the migrations themselves. */
export const evaluate = (l: ReleaseLayout, expression: string): Argv => node.control(l, 3600, 'eval', expression);

/** Reads `once`'s output: whether it ran now, and what the command printed. */
export function parseOnce(stdout: string): { recorded: boolean; output: string } {
  const [first = '', ...rest] = stdout.split('\n');
  if (first === RECORDED || first === RAN) return { recorded: first === RECORDED, output: rest.join('\n') };
  return { recorded: false, output: stdout };
}
