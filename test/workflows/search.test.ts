import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { RolloutPlan } from '../../core/domain/plan';
import { SEARCH, searchFieldsOf, searchPairs } from '../../core/domain/search';
import type { rollout } from '../../workflows/rollout';
import { fleet, hosts, plan } from '../support/rollout-fleet';
import { workflowEnv } from '../support/workflow-env';

// FerryPhase and FerryOutcome as a rollout moves (scripts/dev-server.sh registers the attributes): the phase while it
// waits at a gate, then done with its outcome. A run started without the attributes never upserts any.

const wf = workflowEnv();

const start = (name: string, input: RolloutPlan, searched = true, taskQueue = name) =>
  wf.client.workflow.start<typeof rollout>('rollout', {
    taskQueue,
    workflowId: name,
    args: [input],
    ...(searched ? { typedSearchAttributes: searchPairs(searchFieldsOf('rollout', input)!) } : {}),
  });

async function attributes(handle: WorkflowHandle) {
  const d = await handle.describe();
  return { phase: d.typedSearchAttributes.get(SEARCH.phase), outcome: d.typedSearchAttributes.get(SEARCH.outcome), app: d.typedSearchAttributes.get(SEARCH.app) };
}

async function until(handle: WorkflowHandle, ok: (a: Awaited<ReturnType<typeof attributes>>) => boolean) {
  for (let i = 0; i < 200; i++) {
    const a = await attributes(handle);
    if (ok(a)) return a;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out; search attributes: ${JSON.stringify(await attributes(handle))}`);
}

test('a rollout keeps FerryPhase current at its gate and records FerryOutcome at its end', async () => {
  const f = fleet();
  await wf.withWorker('search-gate', f.activities, async () => {
    const handle = await start('search-gate', plan({ hosts: hosts(2), approveBefore: true }));
    assert.deepEqual(await until(handle, (a) => a.phase === 'waiting-for-approval'), { phase: 'waiting-for-approval', outcome: undefined, app: 'hello' });
    await handle.executeUpdate('approve', { args: [{ by: 'alice' }] });
    await handle.result();
    assert.deepEqual(await attributes(handle), { phase: 'done', outcome: 'succeeded', app: 'hello' });
  });
});

test('a rejected rollout ends with FerryOutcome rejected; one started without the attributes gets none', async () => {
  const f = fleet();
  await wf.withWorker('search-reject', f.activities, async () => {
    const handle = await start('search-reject', plan({ hosts: hosts(1), approveBefore: true }));
    await until(handle, (a) => a.phase === 'waiting-for-approval');
    await handle.executeUpdate('reject', { args: [{ by: 'alice' }] });
    await handle.result().catch(() => undefined);
    assert.deepEqual(await attributes(handle), { phase: 'done', outcome: 'rejected', app: 'hello' });

    const plain = await start('search-plain', plan({ hosts: hosts(1) }), false, 'search-reject');
    await plain.result();
    assert.deepEqual(await attributes(plain), { phase: undefined, outcome: undefined, app: undefined });
  });
});
