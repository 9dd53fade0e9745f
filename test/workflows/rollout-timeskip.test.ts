import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { Activities } from '../../activities';
import type { RolloutPlan } from '../../core/domain/plan';
import type { rollout } from '../../workflows/rollout';
import { fleet, hosts, plan, rolloutOutcome as outcome, untilProgress as until } from '../support/rollout-fleet';
import { workflowBundle } from '../support/workflow-env';

/**
 * Rollout workflow tests on the time-skipping test server (`temporal-test-server`, pinned in scripts/bootstrap.sh):
 * hours of approval timeouts, probe intervals and pauses pass in an instant. Activities are the fake fleet's.
 * The server does not skip time while a client waits on an update result, so these tests decide by signal.
 */
const server = join(__dirname, '..', '..', '.venv', 'bin', 'temporal-test-server');
/** A free port unless FERRY_TEST_TIMESKIP_PORT names one: two test runs on one machine must not share a server. */
const port = process.env.FERRY_TEST_TIMESKIP_PORT ? Number(process.env.FERRY_TEST_TIMESKIP_PORT) : undefined;
let env: TestWorkflowEnvironment;

before(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Installed already by another test file in this process.
  }
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: server }, port } });
});
after(async () => {
  await env?.teardown();
});

async function withWorker<T>(taskQueue: string, activities: Activities, fn: () => Promise<T>): Promise<T> {
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities });
  return worker.runUntil(fn);
}
const start = (name: string, input: RolloutPlan) => env.client.workflow.start<typeof rollout>('rollout', { taskQueue: name, workflowId: name, args: [input] });

/** The rollout's outcome: its result, or the progress a RolloutRejected/-Aborted/-RolledBack failure carries. */


test('an approval timeout of 2 hours passes without waiting for it and rejects the rollout untouched', async () => {
  const f = fleet();
  const began = await env.currentTimeMs();
  const { type, message, progress } = await withWorker('ts-timeout', f.activities, async () =>
    outcome(await start('ts-timeout', plan({ approveBefore: true }, { approvalTimeoutSeconds: 7200 }))),
  );
  assert.equal(type, 'RolloutRejected');
  assert.equal(message, 'production: before: no approval within 7200s');
  assert.deepEqual(progress.approvals.map((a) => [a.decision, a.by, a.via]), [['rejected', 'timeout', 'timeout']]);
  assert.ok((await env.currentTimeMs()) - began >= 7200_000, 'the server clock moved past the timeout');
  assert.deepEqual(f.uploads(), []);
});

test('canary, ramp and batches: 1, then 2 and 25% (of 10: 3), then 50% batches clipped to what is left', async () => {
  const f = fleet();
  const { progress } = await withWorker('ts-ramp', f.activities, async () =>
    outcome(await start('ts-ramp', plan({ hosts: hosts(10), canary: 1, ramp: [2, '25%'], batch: '50%' }))),
  );
  assert.deepEqual(progress.stages[0]!.batches.map((b) => b.length), [1, 2, 3, 4]);
  assert.deepEqual(progress.stages[0]!.batches.flat(), hosts(10).map((h) => h.name));
  // Each batch starts after the one before it ended.
  const order = f.uploads();
  progress.stages[0]!.batches.reduce((at, batch) => {
    assert.deepEqual(new Set(order.slice(at, at + batch.length)), new Set(batch));
    return at + batch.length;
  }, 0);
  assert.equal(progress.phase, 'done');
});

test('a failing health command is tried retries+1 times, interval apart; maxFailures 1 tolerates one such host', async () => {
  const f = fleet();
  f.unhealthy.add('web2');
  const healthCommand = { command: ['bin/check'], retries: 3, intervalSeconds: 600 };
  const began = await env.currentTimeMs();
  const { progress } = await withWorker('ts-tolerate', f.activities, async () =>
    outcome(await start('ts-tolerate', plan({ hosts: hosts(4), batch: 2, maxFailures: 1, healthCommand }))),
  );
  assert.equal(progress.phase, 'done');
  assert.equal(f.probes.filter((p) => p === 'command web2').length, 4);
  assert.equal(f.probes.filter((p) => p === 'command web1').length, 1);
  assert.ok((await env.currentTimeMs()) - began >= 3 * 600_000, 'three 10-minute intervals passed on the server clock');
  assert.match(progress.stages[0]!.hosts.web2!.error ?? '', /^health: .*web2: health command `bin\/check` exited with 1/);
  assert.deepEqual(Object.values(progress.stages[0]!.hosts).map((h) => h.outcome), ['ok', 'failed', 'ok', 'ok']);
});

test('minHealthy 80% of 5: two failed hosts halt the stage though maxFailures would allow them; skip goes on', async () => {
  const f = fleet();
  f.unhealthy.add('web1');
  f.unhealthy.add('web2');
  const healthCommand = { command: ['bin/check'], retries: 0 };
  await withWorker('ts-minhealthy', f.activities, async () => {
    const handle = await start('ts-minhealthy', plan({ hosts: hosts(5), batch: 2, maxFailures: 3, minHealthy: '80%', healthCommand }));
    const p = await until(handle, (x) => x.waiting?.kind === 'operator');
    assert.deepEqual(p.waiting?.kind === 'operator' && p.waiting.hosts, ['web1', 'web2']);
    assert.deepEqual(f.uploads().sort(), ['web1', 'web2']);
    await handle.signal('resume', { action: 'skip', by: 'ops' });
    const { progress } = await outcome(handle);
    assert.deepEqual(Object.values(progress.stages[0]!.hosts).map((h) => h.outcome), ['skipped', 'skipped', 'ok', 'ok', 'ok']);
  });
});

test('rollback-batch: the failed batch goes back to its previous version and the rollout waits; retry deploys the batch again', async () => {
  const f = fleet(Object.fromEntries(hosts(5).map((h) => [h.name, '0.1.0'])));
  f.unhealthy.add('web3');
  const healthCommand = { command: ['bin/check'], retries: 0 };
  await withWorker('ts-rb-batch', f.activities, async () => {
    const handle = await start('ts-rb-batch', plan({ hosts: hosts(5), canary: 1, batch: 2, onFailure: 'rollback-batch', healthCommand }));
    const p = await until(handle, (x) => x.waiting?.kind === 'operator');
    const h = p.stages[0]!.hosts;
    assert.deepEqual([h.web1, h.web2, h.web3].map((x) => [x!.step, x!.outcome, x!.version]), [
      ['done', 'ok', '0.2.0'],
      ['rolled-back', 'rolled-back', '0.1.0'],
      ['rolled-back', 'failed', '0.1.0'],
    ]);
    assert.deepEqual([...f.running.values()], ['0.2.0', '0.1.0', '0.1.0', '0.1.0', '0.1.0']);
    assert.deepEqual(p.decisions.map((d) => [d.action, d.by]), [['rollback', 'policy rollback-batch']]);
    f.unhealthy.delete('web3');
    await handle.signal('resume', { action: 'retry', by: 'ops' });
    const { progress } = await outcome(handle);
    assert.equal(progress.phase, 'done');
    assert.deepEqual(Object.values(progress.stages[0]!.hosts).map((x) => [x.outcome, x.attempts]), [
      ['ok', 1],
      ['ok', 2],
      ['ok', 2],
      ['ok', 1],
      ['ok', 1],
    ]);
  });
  assert.deepEqual([...f.running.values()], Array(5).fill('0.2.0'));
});

test('rollback-stage with afterRollback end: every host the stage touched goes back and the rollout ends rolled back', async () => {
  const f = fleet(Object.fromEntries(hosts(5).map((h) => [h.name, '0.1.0'])));
  f.unhealthy.add('web4');
  const healthCommand = { command: ['bin/check'], retries: 0 };
  const { type, message, progress } = await withWorker('ts-rb-stage', f.activities, async () =>
    outcome(await start('ts-rb-stage', plan({ hosts: hosts(5), canary: 1, batch: 2, onFailure: 'rollback-stage', afterRollback: 'end', healthCommand }))),
  );
  assert.equal(type, 'RolloutRolledBack');
  assert.match(message ?? '', /^production: web4 failed \(health: .*\); rollback-stage rolled back web1, web2, web3, web4, web5$/);
  assert.deepEqual(Object.values(progress.stages[0]!.hosts).map((h) => h.step), Array(5).fill('rolled-back'));
  assert.deepEqual([...f.running.values()], Array(5).fill('0.1.0'));
});

test('hours-long pauses between batches and continue-as-new: 12 hosts one by one, each deployed once', async () => {
  const f = fleet();
  const began = await env.currentTimeMs();
  const { progress } = await withWorker('ts-can', f.activities, async () =>
    outcome(await start('ts-can', plan({ hosts: hosts(12), batch: 1, pauseSeconds: 3600 }, { continueAsNewAfterEvents: 60 }))),
  );
  assert.equal(progress.phase, 'done');
  assert.ok(progress.runs >= 3, `continued as new ${progress.runs} times`);
  assert.deepEqual(Object.values(progress.stages[0]!.hosts).map((h) => [h.outcome, h.attempts]), Array(12).fill(['ok', 1]));
  assert.deepEqual(f.uploads(), hosts(12).map((h) => h.name));
  assert.ok((await env.currentTimeMs()) - began >= 11 * 3600_000, 'eleven one-hour pauses passed on the server clock');
});
