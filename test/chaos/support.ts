import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loginCount, type TestEnv } from '../support/env';

/** Shared by the fault-injection families (`npm run chaos`): the CLIs and the worker (test/support/cli.ts), host-side records. */
export { ferry, root, spawnWorker, starts, stopWorker, temporal } from '../support/cli';

// The benchmark's seeded PRNG (mulberry32) and sleep: the same seed gives the same fault schedule.
export { prng, sleep } from '../../bench/env';

/** Every login of every test host so far. */
export const allLogins = (env: TestEnv, hosts: string[]): number => hosts.reduce((n, h) => n + loginCount(env, h), 0);

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
