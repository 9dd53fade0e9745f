import { execFile, type ExecFileException } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseDeliveryConfig } from '../core/config/parse';
import type { BuildTool, DeliveryConfig } from '../core/config/schema';
import { InputError, tail } from '../core/domain/errors';
import { HOOK_NAMES, hooksSchema, type HookName, type Hooks } from '../core/domain/hooks';

/**
 * Constant script: the config file arrives as $1 and is never spliced into it. `bash -n` rejects a syntax error
 * before any line runs; `set -a` exports what the file assigns, and `env -0` prints the environment before and
 * after, NUL-separated, so values with newlines or quotes come back unchanged and only what the file set counts.
 * The second marker shows that the file did not call `exit` early. Last come the hook functions the file defines,
 * of the names given as $2..., as `declare -f` prints them: name, NUL, text, NUL.
 */
const READ_VARIABLES = `"$BASH" -n -- "$1" || exit 2
env -0
printf 'ferry-before\\0'
set -a
source "$1" >/dev/null
builtin printf 'ferry-sourced\\0'
command env -0
builtin printf 'ferry-hooks\\0'
for f in "\${@:2}"; do
  if builtin declare -F "$f" >/dev/null; then builtin printf '%s\\0' "$f"; builtin declare -f "$f"; builtin printf '\\0'; fi
done`;
const BEFORE = 'ferry-before';
const MARKER = 'ferry-sourced';
const HOOKS = 'ferry-hooks';
const TIMEOUT_MS = 15_000;

/**
 * Reads `.deliver/config` (in `cwd`, or `configFile`) the way edeliver does: bash sources it in the project directory.
 * Throws one InputError when the file is missing, bash cannot evaluate it, or any value is invalid (all of them listed);
 * `warn` hears what is accepted but should change (keys in RELEASE_STORE).
 */
export async function loadDeliveryConfig(opts: { configFile?: string; cwd: string; warn?: (message: string) => void }): Promise<DeliveryConfig> {
  const cwd = path.resolve(opts.cwd);
  const file = path.resolve(cwd, opts.configFile ?? '.deliver/config');
  if (!existsSync(file)) {
    throw new InputError(
      opts.configFile === undefined
        ? `no .deliver/config in ${cwd}: create one (see README) or pass --config=FILE`
        : `config file ${file} does not exist: check --config=FILE`,
    );
  }
  // The project is the directory that holds .deliver/; a config kept elsewhere builds the current directory.
  const projectDir = path.basename(path.dirname(file)) === '.deliver' ? path.dirname(path.dirname(file)) : cwd;
  const relative = path.relative(cwd, file);
  const source = relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;

  const { vars, hooks } = await sourceWithBash(file, projectDir, source);
  const result = parseDeliveryConfig(vars, { source, projectDir, detectedTool: detectBuildTool(projectDir) });
  if (!result.ok) throw new InputError(result.errors.join('\n'));
  for (const w of result.warnings) opts.warn?.(w);
  const checked = hooksSchema.safeParse(hooks);
  if (!checked.success) throw new InputError(`${source}: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return Object.keys(hooks).length > 0 ? { ...result.config, hooks } : result.config;
}

/** mix.exs -> mix, rebar.config -> rebar3. mix wins when both exist: a Mix project may keep a rebar.config for deps. */
function detectBuildTool(projectDir: string): BuildTool | undefined {
  if (existsSync(path.join(projectDir, 'mix.exs'))) return 'mix';
  if (existsSync(path.join(projectDir, 'rebar.config'))) return 'rebar3';
  return undefined;
}

/** Every variable the file leaves exported, after bash has sourced it in `dir`. */
async function sourceWithBash(file: string, dir: string, source: string): Promise<{ vars: Record<string, string>; hooks: Hooks }> {
  // The caller's environment, as edeliver sources the file in the user's shell: a config may read e.g. $FERRY_STATE.
  const env = { ...process.env, PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin' };
  const { error, stdout, stderr } = await new Promise<{ error: ExecFileException | null; stdout: string; stderr: string }>(
    (resolve) => {
      const child = execFile(
        'bash',
        ['-c', READ_VARIABLES, 'ferry-config', file, ...HOOK_NAMES],
        { cwd: dir, env, timeout: TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
        (err, out, errOut) => resolve({ error: err, stdout: out, stderr: errOut }),
      );
      child.stdin?.end();
    },
  );
  if (error?.code === 'ENOENT') throw new InputError(`${source}: cannot run bash to read it: install bash`);
  if (error?.killed) {
    throw new InputError(`${source}: bash did not finish reading it within ${TIMEOUT_MS / 1000}s: check the commands it runs`);
  }
  if (error) {
    const status = typeof error.code === 'number' ? `exit code ${error.code}` : 'an error';
    throw new InputError(`${source}: bash stopped with ${status} while reading it: fix the file\n${tail(stderr) || error.message}`);
  }
  const parts = stdout.split('\0');
  const split = parts.indexOf(BEFORE);
  const [marker, ...rest] = parts.slice(split + 1);
  const hooksAt = rest.lastIndexOf(HOOKS);
  if (marker !== MARKER || hooksAt < 0) throw new InputError(`${source}: the file calls exit before its end: remove the exit`);
  const before = toVariables(parts.slice(0, split));
  // Only what the file set or changed: the caller's own variables (FERRY_HOSTS, say) are not config.
  const vars = Object.fromEntries(Object.entries(toVariables(rest.slice(0, hooksAt))).filter(([k, v]) => before[k] !== v));
  const hooks: Hooks = {};
  const found = rest.slice(hooksAt + 1);
  for (let i = 0; i + 1 < found.length; i += 2) hooks[found[i] as HookName] = found[i + 1]!.trimEnd();
  return { vars, hooks };
}

function toVariables(entries: string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const name = entry.slice(0, eq);
    // Skips exported functions (BASH_FUNC_name%%) and the empty string after the last NUL.
    if (eq > 0 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) vars[name] = entry.slice(eq + 1);
  }
  return vars;
}
