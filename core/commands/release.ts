import type { ReleaseLayout } from '../domain/host';
import type { Argv } from './shell';

/** Where an upload lands before its checksum is verified; never extracted from. */
export const partialPath = (final: string): string => `${final}.partial`;

/**
 * Everything an upload checks before it sends a byte, in one command (one round trip, one remote shell): makes the
 * release directory, removes a partial file an earlier try left, then prints the final file's sha256 (or `-` when it is
 * not there), `curl` or `no-curl`, the topmost directory it had to make at or below `root` (or `-`), and `df -Pk` of
 * the directory. Read with `parseUploadSurvey`; `undoUpload` removes what it made. Repeatable.
 */
export const surveyUpload = (root: string, dir: string, final: string, partial: string): Argv => [
  'sh',
  '-c',
  'top=-; d="$2"; while [ ! -d "$d" ]; do top=$d; [ "$d" = "$1" ] && break; d=$(dirname -- "$d"); done; ' +
    'mkdir -p -- "$2" && rm -f -- "$4" && { if [ -f "$3" ]; then sha256sum -- "$3"; else echo -; fi; ' +
    'if command -v curl >/dev/null 2>&1; then echo curl; else echo no-curl; fi; echo "$top"; df -Pk -- "$2" || true; }',
  'survey',
  root,
  dir,
  final,
  partial,
];

export interface UploadSurvey {
  /** The sha256 of the file already in place, if any. */
  sha256?: string;
  /** Whether the host has curl (it can fetch a presigned URL itself). */
  curl: boolean;
  /** The topmost directory the survey made (the release directory, or one above it up to the app's root). */
  made?: string;
  /** Free KiB where the file goes; undefined when df could not tell. */
  freeKiB?: number;
}

export function parseUploadSurvey(stdout: string): UploadSurvey {
  const [present = '-', curl, made = '-', ...df] = stdout.split('\n');
  const sha256 = /^\\?([0-9a-f]{64})\s/.exec(present)?.[1];
  return { ...(sha256 ? { sha256 } : {}), curl: curl === 'curl', ...(made.startsWith('/') ? { made } : {}), freeKiB: availableKiB(df.join('\n')) };
}

/**
 * Undoes a failed upload: removes its partial file, then `dir` and each directory above it up to `made` (what the
 * survey made), each only while it is empty. A rejected tarball leaves nothing behind. Repeatable.
 */
export const undoUpload = (partial: string, dir: string, made: string | undefined): Argv => [
  'sh',
  '-c',
  'rm -f -- "$1"; [ "$3" = - ] && exit 0; d="$2"; ' +
    'while case "$d" in "$3"|"$3"/*) true;; *) false;; esac && rmdir -- "$d" 2>/dev/null && [ "$d" != "$3" ]; do d=$(dirname -- "$d"); done; exit 0',
  'undo-upload',
  partial,
  dir,
  made ?? '-',
];

/** Checks the sha256 of a partial upload, then moves it into place (atomic on one filesystem). */
export const verifyAndPlace = (partial: string, final: string, sha256: string): Argv[] => [
  ['sh', '-c', 'echo "$1  $2" | sha256sum -c --status', 'verify', sha256, partial],
  ['mv', '-f', '--', partial, final],
];

/** Removes a partial upload (after a failed transfer, so that it does not hold disk space). Repeatable. */
export const removePartial = (partial: string): Argv => ['rm', '-f', '--', partial];

/** POSIX `df` of the filesystem holding `dir`, in KiB: read with `availableKiB`. */
export const diskFree = (dir: string): Argv => ['df', '-Pk', '--', dir];

/** The available KiB in `df -Pk` output (the 4th column of its second line); undefined when it cannot tell. */
export function availableKiB(dfOutput: string): number | undefined {
  const fields = dfOutput.trim().split('\n')[1]?.trim().split(/\s+/);
  const n = Number(fields?.[3]);
  return fields && fields.length >= 6 && Number.isInteger(n) ? n : undefined;
}

/** Unpacks a tarball that is already on the host, after checking it again. Repeatable: tar overwrites in place. */
export const unpack = (layout: ReleaseLayout, v: string, sha256: string): Argv[] => [
  ['sh', '-c', 'echo "$1  $2" | sha256sum -c --status', 'verify', sha256, layout.tarball(v)],
  ['tar', '-xzf', layout.tarball(v), '-C', layout.root],
];

/** Lists the release versions present on a host (directories under releases/). */
export const listVersions = (layout: ReleaseLayout): Argv => [
  'sh',
  '-c',
  'cd "$1" 2>/dev/null && for d in */; do [ -d "$d" ] && echo "${d%/}"; done; true',
  'versions',
  layout.releasesDir,
];

/**
 * Downloads to the partial path with curl, which reads the URL from stdin (`curlConfig`): a presigned URL never
 * appears in argv, where `ps` and error messages would show it. A download that moves no byte for 20 s fails, as a
 * transfer through the worker does.
 */
export const download = (partial: string): Argv => ['curl', '-fsS', '--retry', '2', '--speed-limit', '1', '--speed-time', '20', '-o', partial, '--config', '-'];

/** curl's config text for one URL; presigned URLs hold no `"` or `\`, and anything else is refused. */
export function curlConfig(url: string): string {
  if (!/^https?:\/\/[^\s"\\]+$/.test(url)) throw new Error('refusing a URL with spaces, quotes or backslashes');
  return `url = "${url}"\n`;
}

/** Prints `releases/start_erl.data` (`<erts vsn> <release vsn>`: what `bin/<app> daemon` starts), or nothing. */
export const startData = (layout: ReleaseLayout): Argv => [
  'sh',
  '-c',
  'if [ -f "$1" ]; then cat "$1"; fi',
  'start-data',
  `${layout.releasesDir}/start_erl.data`,
];

/** Removes one old release directory. Repeatable. */
export const removeVersion = (layout: ReleaseLayout, v: string): Argv => ['rm', '-rf', '--', layout.releaseDir(v)];
