import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stopProcess } from '../../bench/env';
import type { TestEnv } from './env';

/**
 * The processes a user runs, for tests that drive Ferry from outside: the `ferry` CLI, the stock `temporal` CLI and
 * `ferry worker` as a child process (so that it can be killed with SIGKILL), and what the hosts record of them.
 */
export const root = join(__dirname, '..', '..');
const temporalBin = join(root, '.venv', 'bin', 'temporal');

export function ferry(cwd: string, ...args: string[]) {
  const r = spawnSync(join(root, 'bin', 'ferry'), args, { cwd, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

export function temporal(env: TestEnv, ...args: string[]) {
  const r = spawnSync(temporalBin, [...args, '--address', env.temporalAddress], { encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** `ferry worker` as a child process on the `ferry` task queue; its stderr goes to the test's. */
export function spawnWorker(logLevel = 'error'): ChildProcess {
  const w = spawn(join(root, 'bin', 'ferry'), ['worker'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FERRY_LOG_LEVEL: logLevel } });
  w.stderr?.on('data', (d: Buffer) => process.stderr.write(`[worker] ${d.toString()}`));
  return w;
}

/** Stops the worker (SIGTERM unless told) and waits for it to exit. */
export const stopWorker = (w: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => stopProcess(w, signal);

/** Node starts a host has seen: run_erl writes a LOGGING STARTED line each time the node starts. */
export function starts(env: TestEnv, host: string): number {
  const dir = join(env.hostRoot(host), 'ferry', 'hello', 'log');
  if (!existsSync(dir)) return 0;
  return readdirSync(dir)
    .filter((f) => f.startsWith('erlang.log.'))
    .reduce((n, f) => n + (readFileSync(join(dir, f), 'utf8').match(/LOGGING STARTED/g) ?? []).length, 0);
}

/** Builds 0.1.0 and 0.2.0 unless the store has them, then deploys and starts 0.1.0 on production: a rollout's start. */
export function productionOn010(project: string): void {
  const stored = (JSON.parse(ferry(project, 'show', 'releases', '--json').out || '[]') as Array<{ version: string }>).map((r) => r.version);
  for (const tag of ['0.1.0', '0.2.0'].filter((v) => !stored.includes(v))) assert.equal(ferry(project, 'build', 'release', `--tag=${tag}`).code, 0);
  const first = ferry(project, 'deploy', 'release', 'to', 'production', '--version=0.1.0', '--start-deploy');
  assert.equal(first.code, 0, first.out + first.err);
}
