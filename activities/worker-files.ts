import { realpathSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { InputError } from '../core/domain/errors';

/**
 * Files on the worker machine that a request may name: the project directory, a local release store, SSH files and
 * the cookie file. A request is anyone's who may start workflows in the namespace, so the worker takes such paths only
 * under directories its own environment allows (FERRY_WORKER_FILES), after resolving symbolic links.
 */

/** What a request names, by field, as the user knows it (the `.deliver/config` variable). */
const FIELDS: Record<string, string> = {
  projectDir: 'the project directory',
  cookieFile: 'COOKIE_FILE',
  identityFile: 'SSH_IDENTITY_FILE',
  knownHostsFile: 'SSH_KNOWN_HOSTS',
  configFile: 'SSH_CONFIG',
};

/**
 * The directories of FERRY_WORKER_FILES (absolute, separated by `:`), else the worker's working directory and its
 * user's `~/.ssh`; each with its symbolic links resolved. A relative entry is an error at start, not a silent hole.
 */
export function workerFilesFromEnv(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string[] {
  const listed = env.FERRY_WORKER_FILES?.split(':').filter((d) => d !== '');
  const dirs = listed?.length ? listed : [cwd, join(homedir(), '.ssh')];
  for (const d of dirs) if (!isAbsolute(d)) throw new InputError(`FERRY_WORKER_FILES: "${d}" is not an absolute directory`);
  return dirs.map((d) => {
    try {
      return realpathSync(d);
    } catch {
      return d;
    }
  });
}

/** `path` with every symbolic link resolved, as far as it exists (a store directory may not exist yet). */
async function resolved(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (err) {
    const parent = dirname(path);
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === path) return path;
    return join(await resolved(parent), basename(path));
  }
}

/** Throws InputError unless `path` (links resolved) is one of `dirs` or inside one. */
export async function checkWorkerPath(dirs: readonly string[], path: string, what: string): Promise<void> {
  const real = await resolved(path);
  if (dirs.some((d) => real === d || real.startsWith(d.endsWith('/') ? d : `${d}/`))) return;
  throw new InputError(
    `${what} ${path}${real !== path ? ` (${real})` : ''} is not in a directory this worker lets requests name (FERRY_WORKER_FILES: ${dirs.join(':')}); ` +
      'move it there, or add its directory to FERRY_WORKER_FILES in the worker\'s environment',
  );
}

/** Every worker path an activity's input names: the fields above at any depth, and a local store's directory. */
export function workerPaths(input: unknown, found: Array<[string, string]> = [], depth = 0): Array<[string, string]> {
  if (typeof input !== 'object' || input === null || depth > 6) return found;
  for (const [key, value] of Object.entries(input)) {
    if (typeof value === 'string' && FIELDS[key] && !(key === 'configFile' && value === 'none')) found.push([FIELDS[key], value]);
    else if (key === 'store' && typeof value === 'string') found.push(['RELEASE_STORE', value]);
    else if (key === 'store' && (value as { kind?: unknown } | null)?.kind === 'local') found.push(['RELEASE_STORE', String((value as { dir: unknown }).dir)]);
    else workerPaths(value, found, depth + 1);
  }
  return found;
}

/**
 * Wraps every activity so that its input may name worker files only under `dirs`: a request that names another file
 * (a system file as COOKIE_FILE, another user's key) fails with an InputError before the activity does anything.
 */
export function guardWorkerFiles<T extends Record<string, (...args: never[]) => Promise<unknown>>>(dirs: readonly string[], activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      for (const [what, path] of workerPaths(args)) await checkWorkerPath(dirs, path, what);
      return fn(...args);
    };
  }
  return wrapped as T;
}
