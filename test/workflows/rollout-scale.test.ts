import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { RolloutProgress } from '../../core/domain/plan';
import type { rollout } from '../../workflows/rollout';
import { fleet, hosts, plan } from '../support/rollout-fleet';
import { runFigures } from '../support/run-limits';
import { workflowBundle, workflowEnv } from '../support/workflow-env';

/**
 * Bounded fan-out (docs/scale.md) with the fake fleet: a canary, then 2,000 hosts in one batch, then the stage rolled
 * back, in runs that each stay inside Temporal's limits. On the dev server: the time-skipping test server takes tens
 * of minutes for the ~40,000 events of this test. FERRY_SCALE_HOSTS sets the batch's size (`npm run chaos` runs 10,000).
 */
const BATCH = Number(process.env.FERRY_SCALE_HOSTS ?? 2000);
const env = workflowEnv();

test(`a canary, ${BATCH} hosts in one batch, then rollback-stage: every run under 10,240 events and 500 pending, no task fails`, async () => {
  const id = `scale-${Date.now()}`;
  const all = hosts(BATCH + 1);
  const f = fleet(Object.fromEntries(all.map((h) => [h.name, '0.1.0'])));
  // The last host of the big batch fails its upload (a bad host key, not retried): the stage's policy rolls every
  // touched host back. No node start and no health check: fewer steps per host, a shorter test.
  f.failOn.add(`web${BATCH + 1}`);
  const input = plan({ hosts: all, canary: 1, startDeploy: false, healthCheck: false, onFailure: 'rollback-stage', afterRollback: 'end' });
  const worker = await Worker.create({
    connection: env.native,
    taskQueue: 'ts-scale',
    workflowBundle: await workflowBundle(),
    activities: f.activities,
  });
  const handle = await worker.runUntil(async () => {
    const h = await env.client.workflow.start<typeof rollout>('rollout', { taskQueue: 'ts-scale', workflowId: id, args: [input] });
    await h.result().catch(() => undefined);
    return h;
  });

  let progress: RolloutProgress | undefined;
  let type: string | undefined;
  try {
    progress = (await handle.result()) as RolloutProgress;
  } catch (err) {
    assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, String(err));
    type = err.cause.type ?? undefined;
    progress = err.cause.details?.[0] as RolloutProgress;
  }
  assert.equal(type, 'RolloutRolledBack');
  const stage = progress.stages[0]!;
  assert.deepEqual(stage.batches.map((b) => b.length), [1, BATCH]);
  const outcomes = new Map<string, number>();
  for (const h of Object.values(stage.hosts)) outcomes.set(`${h.outcome}`, (outcomes.get(`${h.outcome}`) ?? 0) + 1);
  // The failed host is rolled back too (its upload fails again), and stays failed; every host runs 0.1.0.
  assert.deepEqual(Object.fromEntries(outcomes), { 'rolled-back': BATCH, failed: 1 });
  assert.equal(f.uploads().length, 2 * (BATCH + 1), 'each host got the new release once and its previous one back once');
  assert.ok([...f.running.values()].every((v) => v === '0.1.0'));

  const runs = await runFigures(env.client, id, handle.firstExecutionRunId);
  const worst = { events: Math.max(...runs.map((r) => r.events)), pending: Math.max(...runs.map((r) => r.maxPending)), carried: Math.max(...runs.map((r) => r.carriedBytes)) };
  console.log(`# ${runs.length} runs; most events ${worst.events}, most pending ${worst.pending}, largest continue-as-new payload ${worst.carried} bytes`);
  if (BATCH >= 1000) assert.ok(runs.length > 1, 'the rollout continued as new');
  for (const r of runs) {
    assert.ok(r.events < 10_240, `run ${r.runId}: ${r.events} events`);
    assert.ok(r.maxPending <= 500, `run ${r.runId}: ${r.maxPending} pending`);
    assert.equal(r.failedTasks, 0, `run ${r.runId}: a workflow task failed`);
    // The plan itself is ~105 bytes a host: past ~2,400 hosts it alone is over 256 KB (docs/scale.md).
    if (BATCH <= 2000) assert.ok(r.carriedBytes < 256 * 1024, `run ${r.runId}: continued as new with a payload of ${r.carriedBytes} bytes`);
  }
  assert.equal(progress.runs, runs.length - 1);
});
