import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Connection } from '@temporalio/client';
import { TASK_QUEUE } from '../../core/domain/constants';
import { exampleProject, testConfig, testEnv, withTrimmedPath } from '../support/env';

const env = testEnv();
const root = join(__dirname, '..', '..');
let worker: ChildProcess;

before(async () => {
  // A worker polls, so that the Temporal checks pass and the build host's are the only ones that can fail.
  worker = spawn(join(root, 'bin', 'ferry'), ['worker'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FERRY_LOG_LEVEL: 'warn' } });
  worker.stderr?.on('data', (d: Buffer) => process.stderr.write(`[worker] ${d.toString()}`));
  // Wait until Temporal sees it poll the activity task queue, as doctor asks.
  const connection = await Connection.connect({ address: env.temporalAddress });
  try {
    for (;;) {
      const { pollers } = await connection.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: TASK_QUEUE }, taskQueueType: 2 });
      if ((pollers?.length ?? 0) > 0) break;
      if (worker.exitCode !== null) throw new Error('the worker exited');
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await connection.close();
  }
});
after(async () => {
  worker.kill('SIGTERM');
  if (worker.exitCode === null) await new Promise((r) => worker.once('exit', r));
});

test('ferry doctor names a build host whose login PATH lacks rebar3, with the fix, and exits 1', async () => {
  const project = exampleProject(env, testConfig(env, `BUILD_HOST="${env.host('other')}"\n`));
  const r = await withTrimmedPath(env, 'other', ['rebar3'], async () =>
    spawnSync(join(root, 'bin', 'ferry'), ['doctor', 'production'], { cwd: project, encoding: 'utf8', timeout: 120_000 }),
  );
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const build = `build ${env.host('other').replaceAll('.', '\\.')}`;
  assert.match(r.stdout, new RegExp(`✓ ${build}\\s+git: git version`));
  assert.match(r.stdout, new RegExp(`✓ ${build}\\s+erl: OTP \\d+`));
  assert.match(
    r.stdout,
    new RegExp(
      `✗ ${build}\\s+rebar3: not found on the login PATH \\([^)\\n]*/opt/trimmed-bin\\)\\n` +
        `\\s+fix: install rebar3 on the build host \\(Debian: apt-get install rebar3\\), or add its directory to the PATH of root's non-interactive SSH sessions`,
    ),
  );
  assert.match(r.stdout, /✓ temporal\s+worker polling "ferry"/);
  assert.match(r.stdout, /1 of \d+ checks failed/);
});

test('with its PATH back, the same build host passes: rebar3 is found', () => {
  const project = exampleProject(env, testConfig(env, `BUILD_HOST="${env.host('other')}"\n`));
  const r = spawnSync(join(root, 'bin', 'ferry'), ['doctor', 'production'], { cwd: project, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`✓ build ${env.host('other').replaceAll('.', '\\.')}\\s+rebar3: rebar 3\\.`));
});
