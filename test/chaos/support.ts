import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TestEnv } from '../support/env';

/** Shared by the fault-injection families (`npm run chaos`): the worker as a process, the CLIs, host-side records. */
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

/** `ferry worker` as a child process on the `ferry` task queue, so that it can be killed with SIGKILL. */
export function spawnWorker(): ChildProcess {
  const w = spawn(join(root, 'bin', 'ferry'), ['worker'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FERRY_LOG_LEVEL: 'error' } });
  w.stderr?.on('data', (d: Buffer) => process.stderr.write(`[worker] ${d.toString()}`));
  return w;
}

export async function stopWorker(w: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (w.exitCode !== null || w.signalCode !== null) return;
  const exited = new Promise((r) => w.once('exit', r));
  w.kill(signal);
  await exited;
}

// The benchmark's seeded PRNG (mulberry32) and sleep: the same seed gives the same fault schedule.
export { prng, sleep } from '../../bench/env';

/** Node starts a host has seen: run_erl writes a LOGGING STARTED line each time the node starts. */
export function starts(env: TestEnv, host: string): number {
  const dir = join(env.hostRoot(host), 'ferry', 'hello', 'log');
  if (!existsSync(dir)) return 0;
  return readdirSync(dir)
    .filter((f) => f.startsWith('erlang.log.'))
    .reduce((n, f) => n + (readFileSync(join(dir, f), 'utf8').match(/LOGGING STARTED/g) ?? []).length, 0);
}

/** Every login of every test host so far. */
export const allLogins = (env: TestEnv, hosts: string[]): number =>
  hosts.reduce((n, h) => n + (readFileSync(env.sshdLog(h), 'utf8').match(/Accepted publickey/g) ?? []).length, 0);

/**
 * What is wrong with a host's release tree: a `.partial` upload left behind, or a release directory without the files
 * a complete extraction leaves (its .rel and start.boot, and lib/hello-<vsn>). Empty when all is whole.
 */
export function halfExtracted(env: TestEnv, host: string): string[] {
  const releases = join(env.hostRoot(host), 'ferry', 'hello', 'releases');
  if (!existsSync(releases)) return [];
  const problems: string[] = [];
  for (const v of readdirSync(releases)) {
    const dir = join(releases, v);
    if (!statSync(dir).isDirectory()) continue;
    for (const f of readdirSync(dir)) if (f.endsWith('.partial')) problems.push(`${host}: ${v}/${f} left behind`);
    if (!existsSync(join(dir, 'hello.tar.gz'))) continue; // an upload that never finished: nothing was extracted from it
    for (const f of ['hello.rel', 'start.boot']) if (!existsSync(join(dir, f))) problems.push(`${host}: ${v}/${f} missing`);
    if (!existsSync(join(env.hostRoot(host), 'ferry', 'hello', 'lib', `hello-${v}`, 'ebin', 'hello.app'))) problems.push(`${host}: lib/hello-${v} missing`);
  }
  return problems;
}

/** Prints the family's summary line and returns it. */
export function summary(family: string, tried: number, passed: number, lost: number): string {
  const line = `chaos ${family}: tried ${tried}, passed ${passed}, lost ${lost}`;
  process.stdout.write(`${line}\n`);
  return line;
}
