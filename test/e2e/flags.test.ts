import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { root } from '../support/cli';
import { exampleProject, testConfig, testEnv } from '../support/env';

/**
 * Every numeric and choice flag of every verb, and config values past a request's bounds, through the real `ferry`
 * CLI: each bad value exits 2 with a message naming it, before anything starts (the dev server sees no new workflow).
 */
const env = testEnv();
let project: string;
let outOfBounds: string;
let client: Client;
let since: string;

before(async () => {
  project = exampleProject(env, testConfig(env));
  outOfBounds = exampleProject(env, testConfig(env, 'PRODUCTION_PAUSE=99999999\n'));
  client = new Client({ connection: await Connection.connect({ address: env.temporalAddress }) });
  since = new Date().toISOString();
});

after(async () => {
  await client?.connection.close();
});

/** `ferry` as a user runs it, without a shell; killed after a minute (a started workflow with no worker would be followed for ever). */
function ferry(cwd: string, args: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(join(root, 'bin', 'ferry'), args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) => resolve({ code, err }));
  });
}

const deploy = ['deploy', 'release', 'to', 'production', '--version=0.1.0'];
const rollout = ['rollout', 'production', '--version=0.1.0'];
/** [args, what stderr must say]; each is run with several bad values where the flag takes a number. */
const cases: Array<[string[], RegExp]> = [
  ...['-1', '1;id', '0', '501', '1e3', '0x10', '1.5', ''].map((v): [string[], RegExp] => [[...deploy, `--max-parallel=${v}`], /--max-parallel=.*: give a whole number from 1 to 500/]),
  [['deploy', 'upgrade', 'to', 'production', '--max-parallel=-1'], /--max-parallel=-1: give a whole number from 1 to 500/],
  [['upgrade', 'production', '--max-parallel=1;id'], /--max-parallel=1;id: give a whole number/],
  [[...rollout, '--canary=-1'], /--canary=-1: give a whole number from 0 to 1000/],
  [[...rollout, '--canary=1001'], /--canary=1001: give a whole number from 0 to 1000/],
  [[...rollout, '--pause=$(id)'], /--pause=\$\(id\): give a whole number/],
  [[...rollout, '--pause=2592001'], /--pause=2592001: give a whole number from 0 to 2592000/],
  [[...rollout, '--max-failures=-2'], /--max-failures=-2: give a whole number/],
  [[...rollout, '--approval-timeout=0'], /--approval-timeout=0: give a whole number from 1/],
  [[...rollout, '--health-status=99'], /--health-status=99: give a whole number from 100 to 599/],
  [[...rollout, '--health-retries=101'], /--health-retries=101: give a whole number from 0 to 100/],
  [[...rollout, '--health-interval=0'], /--health-interval=0: give a number of seconds above 0 and at most 3600/],
  [[...rollout, '--health-interval=1e-7'], /--health-interval=1e-7: give a number of seconds/],
  [[...rollout, '--health-timeout=601'], /--health-timeout=601: give a number of seconds above 0 and at most 600/],
  [[...rollout, '--batch=5000'], /--batch: "5000" must be a host count \(at most 1000\)/],
  [[...rollout, '--ramp=1,-2'], /--ramp: "-2" must be a host count/],
  [[...rollout, '--min-healthy=101%'], /--min-healthy: "101%" must be a host count/],
  [[...rollout, '--on-failure=reboot'], /--on-failure.*reboot.*halt, rollback-batch, rollback-stage/],
  [[...rollout, '--after-rollback=never'], /--after-rollback.*never/],
  [['prune', '--keep=0'], /--keep=0: give a whole number from 1 to 1000/],
  [['prune', 'production', '--keep=2;id'], /--keep=2;id: give a whole number/],
  [['migrate', 'production', 'down', '--version=1;halt'], /a migration version is a whole number/],
  [['build', 'release', '--increment-version=huge'], /--increment-version=huge: use patch, minor or major/],
  [['build', 'release', '--auto-version=$(id)'], /--auto-version: unknown part/],
  [['build', 'release', '--set-version=1.0.0;id'], /--set-version: invalid version "1\.0\.0;id": ";" is not allowed/],
  [['update', 'production', '--increment-version=-1'], /--increment-version=-1: use patch, minor or major/],
];

test('every bad numeric or choice flag exits 2 naming it, without a stack trace', async () => {
  const problems: string[] = [];
  for (let i = 0; i < cases.length; i += 4) {
    await Promise.all(
      cases.slice(i, i + 4).map(async ([args, message]) => {
        const r = await ferry(project, args);
        if (r.code !== 2 || !message.test(r.err) || /\n\s+at /.test(r.err)) problems.push(`ferry ${args.join(' ')}: exit ${r.code}: ${r.err.trim().slice(0, 300)}`);
      }),
    );
  }
  assert.deepEqual(problems, []);
});

test('a config value past a request bound (PRODUCTION_PAUSE of three years) exits 2 before anything starts', async () => {
  const r = await ferry(outOfBounds, rollout);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /^ferry: invalid rollout request: stages\.0\.pauseSeconds: must be at most 30 days\n$/);
});

test('none of them started a workflow', async () => {
  // Visibility lags a little behind a start.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal((await client.workflow.count(`StartTime > "${since}"`)).count, 0);
});
