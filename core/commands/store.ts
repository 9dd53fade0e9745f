import type { Argv } from './shell';

/** Commands on a store host (RELEASE_STORE=user@host:/path). Data goes in as positional parameters, never into the script. */

/** Makes the store directory and its temp directory. Repeatable. */
export const prepare = (dir: string): Argv => ['mkdir', '-p', `${dir}/.tmp`];

/** Prints a file, or nothing when it does not exist. */
export const readIfPresent = (path: string): Argv => ['sh', '-c', 'if [ -f "$1" ]; then cat "$1"; fi', 'read', path];

/** Prints every manifest in the store, each followed by a NUL byte. */
export const listManifests = (dir: string): Argv => [
  'sh',
  '-c',
  'for f in "$1"/*.tar.gz.json; do if [ -f "$f" ]; then cat "$f"; printf "\\000"; fi; done; true',
  'list',
  dir,
];

/** Writes stdin to a file (a manifest), which `place` then renames. */
export const writeStdin = (path: string): Argv => ['sh', '-c', 'cat > "$1"', 'write', path];

/** Moves a finished temp file under its final name (atomic on one filesystem). */
export const place = (temp: string, final: string): Argv => ['mv', '-f', '--', temp, final];

/** Removes files; missing ones are fine. Repeatable. */
export const remove = (...paths: string[]): Argv => ['rm', '-f', '--', ...paths];
