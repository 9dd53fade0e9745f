import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { Activities } from '../../activities';
import { HealthCheckFailedError } from '../../core/domain/errors';
import type { RolloutPlan } from '../../core/domain/plan';
import type { rollout } from '../../workflows/rollout';
import { fleet, hosts, plan, rolloutOutcome as outcome, untilProgress as until } from '../support/rollout-fleet';
import { workflowBundle } from '../support/workflow-env';

/**
 * Bakes on the time-skipping test server: hours of bake pass in an instant, each round of checks a durable timer.
 * Activities are the fake fleet's. Decisions go by signal (the server does not skip time while a client waits on an
 * update), and no client waits on the result while a test polls the progress.
 */
const server = join(__dirname, '..', '..', '.venv', 'bin', 'temporal-test-server');
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

/** `sticky: false` for a worker that goes away mid-run: the next one must not wait for its sticky queue. */
async function withWorker<T>(taskQueue: string, activities: Activities, fn: () => Promise<T>, sticky = true): Promise<T> {
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities, ...(sticky ? {} : { maxCachedWorkflows: 0 }) });
  return worker.runUntil(fn);
}
const start = (name: string, input: RolloutPlan) => env.client.workflow.start<typeof rollout>('rollout', { taskQueue: name, workflowId: name, args: [input] });


test('a 2-hour bake checked every 10 minutes: web2 fails in minute 40, rollback-stage returns every host to 0.1.0', async () => {
  const f = fleet(Object.fromEntries(hosts(3).map((h) => [h.name, '0.1.0'])));
  // The deploy's own check is web2's first; the bake's rounds follow at minutes 10, 20, 30, 40: the fifth fails.
  let web2 = 0;
  const activities: Activities = {
    ...f.activities,
    healthCommand: async (t) => {
      if (t.host.name === 'web2' && ++web2 === 5) throw new HealthCheckFailedError('web2: health command `bin/check` exited with 1: error count 12');
      return f.activities.healthCommand(t);
    },
  };
  const stage = { onFailure: 'rollback-stage' as const, afterRollback: 'end' as const, healthCommand: { command: ['bin/check'], retries: 0 }, bake: { seconds: 7200, intervalSeconds: 600 } };
  const { type, message, progress } = await withWorker('ts-bake-fail', activities, async () => outcome(await start('ts-bake-fail', plan(stage))));
  assert.equal(type, 'RolloutRolledBack');
  assert.match(message ?? '', /^production: web2 failed \(bake: .*error count 12\); rollback-stage rolled back web1, web2, web3$/);
  const b = progress.bakes![0]!;
  const minutes = (Date.parse(b.endedAt!) - Date.parse(b.startedAt)) / 60_000;
  assert.ok(minutes >= 40 && minutes < 41, `the bake failed in its 40th minute on the workflow clock (after ${minutes} minutes)`);
  assert.equal(Date.parse(b.until) - Date.parse(b.startedAt), 7200_000);
  assert.deepEqual(progress.bakes?.map((b) => [b.stage, b.after, b.rounds, b.outcome, b.host]), [['production', 'stage', 4, 'failed', 'web2']]);
  assert.match(progress.bakes![0]!.error!, /error count 12/);
  assert.deepEqual(progress.decisions.map((d) => [d.action, d.by]), [['rollback', 'policy rollback-stage']]);
  assert.deepEqual([...f.running.values()], ['0.1.0', '0.1.0', '0.1.0']);
  assert.deepEqual(f.notes, ['started', 'bake failed', 'rolled back'], 'the notifications sent');
});

test('a bake that passes: every round checks every host, the Erlang expression included, and the rollout then ends done', async () => {
  const f = fleet();
  const bake = { seconds: 3600, intervalSeconds: 1200, erlang: 'length(processes()) < 100000.' };
  const { progress } = await withWorker('ts-bake-pass', f.activities, async () => outcome(await start('ts-bake-pass', plan({ bake }))));
  assert.equal(progress.phase, 'done');
  assert.deepEqual(progress.bakes?.map((b) => [b.after, b.rounds, b.outcome]), [['stage', 3, 'passed']]);
  assert.equal(f.probes.filter((p) => p === 'eval web1').length, 3);
});

test('the canary bake survives a worker restart; ferry promote ends it, and the stage bake still runs after the last batch', async () => {
  const f = fleet();
  const bake = { seconds: 86400, intervalSeconds: 3600 };
  const handle = await start('ts-bake-promote', plan({ hosts: hosts(4), canary: 1, bake }));
  // The first worker goes away while the canary bakes; the bake's timer is in the server, not in the worker.
  await withWorker('ts-bake-promote', f.activities, async () => until(handle, (p) => p.waiting?.kind === 'bake'), false);
  const p = await withWorker('ts-bake-promote', f.activities, async () => {
    const baking = await until(handle, (x) => x.waiting?.kind === 'bake');
    assert.ok(baking.waiting?.kind === 'bake' && baking.waiting.after === 'canary');
    assert.deepEqual(f.uploads(), ['web1'], 'only the canary is deployed while it bakes');
    await handle.signal('promote', { by: 'ana' });
    await until(handle, (x) => x.waiting?.kind === 'bake' && x.waiting.after === 'stage');
    await handle.signal('promote', { by: 'bob' });
    return (await outcome(handle)).progress;
  });
  assert.equal(p.phase, 'done');
  assert.deepEqual(p.bakes?.map((b) => [b.after, b.outcome, b.by]), [['canary', 'promoted', 'ana'], ['stage', 'promoted', 'bob']]);
  assert.deepEqual(p.decisions.map((d) => [d.action, d.by]), [['promote', 'ana'], ['promote', 'bob']]);
  assert.deepEqual(f.notes, ['started', 'stage done', 'succeeded']);
  assert.deepEqual(f.uploads().sort(), ['web1', 'web2', 'web3', 'web4']);
});

test('promote when nothing bakes is refused and recorded as such', async () => {
  const f = fleet();
  const { progress } = await withWorker('ts-bake-refuse', f.activities, async () => {
    const handle = await start('ts-bake-refuse', plan({ approveBefore: true }));
    await until(handle, (x) => x.waiting?.kind === 'approval');
    await handle.signal('promote', { by: 'ana' });
    await handle.signal('approve', { by: 'bob' });
    return outcome(handle);
  });
  assert.equal(progress.phase, 'done');
  assert.deepEqual(progress.refused.map((r) => [r.decision, r.by, r.reason]), [['promote', 'ana', 'nothing is baking (the rollout is waiting-for-approval)']]);
});

test('a deploy window that opens tomorrow: the rollout waits on a durable timer, in the window\'s zone, then deploys', async () => {
  const f = fleet();
  const window = { days: [0, 1, 2, 3, 4, 5, 6], start: 0, end: 1, zone: 'UTC', text: 'daily 00:00-00:01 UTC' };
  const progress = await withWorker('ts-window', f.activities, async () => {
    const handle = await start('ts-window', plan({ window, batch: 1 }));
    const waiting = await until(handle, (p) => p.waiting?.kind === 'window');
    assert.ok(waiting.waiting?.kind === 'window');
    const since = Date.parse(waiting.waiting.since);
    const opens = Date.parse(waiting.waiting.opensAt);
    assert.equal(opens, Math.floor(since / 86_400_000) * 86_400_000 + 86_400_000, 'the next midnight UTC: tomorrow');
    assert.deepEqual(f.uploads(), [], 'no host is touched before the window opens');
    return (await outcome(handle)).progress;
  });
  assert.equal(progress.phase, 'done');
  assert.deepEqual(f.uploads(), ['web1', 'web2', 'web3']);
  for (const h of Object.values(progress.stages[0]!.hosts)) assert.equal(new Date(h.startedAt!).getUTCHours() * 60 + new Date(h.startedAt!).getUTCMinutes(), 0, `${h.host} deployed in the window`);
});

test('a freeze during a rollout holds it before its next batch, for days, until unfreeze; who and why are kept', async () => {
  const f = fleet();
  const id = 'ferry/hello/production';
  const freeze = await withWorker('ts-freeze', f.activities, async () => {
    const handle = await env.client.workflow.start<typeof rollout>('rollout', { taskQueue: 'ts-freeze', workflowId: id, args: [plan({ batch: 1, pauseSeconds: 600 })] });
    await until(handle, (p) => p.stages[0]!.hosts.web1!.outcome === 'ok');
    const frozen = await env.client.workflow.start('freezeEnvironment', { taskQueue: 'ts-freeze', workflowId: 'ferry-freeze/hello/production', args: [{ app: 'hello', environment: 'production', by: 'ops', reason: 'incident 42' }] });
    await until(handle, (p) => p.freezes?.length === 1);
    await env.sleep(3 * 86_400_000);
    const held = await until(handle, (p) => p.waiting?.kind === 'freeze');
    assert.deepEqual(held.waiting?.kind === 'freeze' && [held.waiting.by, held.waiting.reason], ['ops', 'incident 42']);
    assert.deepEqual(f.uploads(), ['web1'], 'three days later, still only the first batch');
    await frozen.signal('unfreeze', { by: 'ana' });
    const lifted = await frozen.result();
    const { progress } = await outcome(handle);
    assert.equal(progress.phase, 'done');
    assert.deepEqual(progress.freezes?.map((x) => [x.by, x.reason, x.unfrozenBy]), [['ops', 'incident 42', 'ana']]);
    return lifted;
  });
  assert.deepEqual([freeze.by, freeze.reason, freeze.unfrozenBy], ['ops', 'incident 42', 'ana']);
  assert.deepEqual(f.uploads(), ['web1', 'web2', 'web3']);
});
