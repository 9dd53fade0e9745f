import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import type { Approval, RolloutPlan, RolloutProgress } from '../../core/domain/plan';
import type { UpgradePlan } from '../../core/domain/upgrade-plan';
import type { rollout } from '../../workflows/rollout';
import { fleet, host, hosts, plan } from '../support/rollout-fleet';
import { workflowEnv, workflowBundle } from '../support/workflow-env';

const fixture = join(__dirname, 'fixtures', 'rollout.history.json');

const wf = workflowEnv();
const { withWorker } = wf;

const start = (name: string, input: RolloutPlan) => wf.client.workflow.start<typeof rollout>('rollout', { taskQueue: name, workflowId: name, args: [input] });

/** Polls the progress query until `ok` holds (10 s at most). */
async function until(handle: WorkflowHandle, ok: (p: RolloutProgress) => boolean): Promise<RolloutProgress> {
  for (let i = 0; i < 200; i++) {
    const p = await handle.query<RolloutProgress>('progress');
    if (ok(p)) return p;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out; progress: ${JSON.stringify(await handle.query('progress'))}`);
}
const waitingFor = (kind: string) => (p: RolloutProgress) => p.waiting?.kind === kind;

/** The failure of a rollout that ended as rejected, aborted or rolled back: its type, message and progress. */
async function failure(handle: WorkflowHandle) {
  const err = await handle.result().catch((e: unknown) => e);
  assert.ok(err instanceof WorkflowFailedError, String(err));
  assert.ok(err.cause instanceof ApplicationFailure);
  return { type: err.cause.type, message: err.cause.message, progress: err.cause.details?.[0] as RolloutProgress };
}

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.catch((e: unknown) => e);
  assert.ok(err instanceof WorkflowUpdateFailedError, `expected a refused update, got ${String(err)}`);
  return String(err.cause?.message);
}

test('deploys the canary first, then batches of 2, each host health-checked', async () => {
  const f = fleet();
  const result = await withWorker('ro-order', f.activities, async () => (await start('ro-order', plan({ hosts: hosts(5), canary: 1, batch: 2 }))).result());
  assert.deepEqual(result.stages[0]!.batches, [['web1'], ['web2', 'web3'], ['web4', 'web5']]);
  const order = f.uploads();
  assert.equal(order[0], 'web1');
  assert.deepEqual(new Set(order.slice(1, 3)), new Set(['web2', 'web3']));
  assert.deepEqual(new Set(order.slice(3)), new Set(['web4', 'web5']));
  assert.equal(result.phase, 'done');
  for (const h of Object.values(result.stages[0]!.hosts)) {
    assert.deepEqual([h.outcome, h.step, h.version, h.previousVersion, h.attempts], ['ok', 'done', '0.2.0', null, 1]);
    assert.equal(typeof h.durationMs, 'number');
  }
});

test('stages run in order: staging, an approval before production, then production', async () => {
  const f = fleet();
  const input: RolloutPlan = {
    ...plan({}),
    stages: [
      { environment: 'staging', hosts: [host(9)] },
      { environment: 'production', hosts: hosts(2), approveBefore: true },
    ],
  };
  await withWorker('ro-stages', f.activities, async () => {
    const handle = await start('ro-stages', input);
    const p = await until(handle, waitingFor('approval'));
    assert.equal(p.waiting?.kind === 'approval' && p.waiting.gate, 'production: before');
    assert.deepEqual(f.uploads(), ['web9']);
    await handle.executeUpdate('approve', { args: [{ by: 'alice' }] });
    assert.equal((await handle.result()).phase, 'done');
  });
  assert.deepEqual(f.uploads().slice(0, 1), ['web9']);
  assert.equal(f.uploads().length, 3);
});

test('after the canary the rollout waits for approve; who, when and the comment are kept in result and memo', async () => {
  const f = fleet();
  await withWorker('ro-approve', f.activities, async () => {
    const handle = await start('ro-approve', plan({ canary: 1, approveAfterCanary: true }));
    const p = await until(handle, waitingFor('approval'));
    assert.equal(p.phase, 'waiting-for-approval');
    assert.equal(p.waiting?.kind === 'approval' && p.waiting.gate, 'production: after canary');
    assert.deepEqual(f.uploads(), ['web1']);
    const approval = (await handle.executeUpdate('approve', { args: [{ by: 'alice', comment: 'canary looks fine' }] })) as Approval;
    assert.equal(approval.by, 'alice');
    const result = await handle.result();
    assert.equal(result.phase, 'done');
    assert.deepEqual(result.approvals.map((a) => [a.gate, a.decision, a.by, a.comment, a.via]), [['production: after canary', 'approved', 'alice', 'canary looks fine', 'update']]);
    assert.match(result.approvals[0]!.at, /^\d{4}-\d\d-\d\dT/);
    const memo = (await handle.describe()).memo as { approvals: unknown[]; outcome: string };
    assert.deepEqual(memo.approvals, result.approvals);
    assert.equal(memo.outcome, 'done');
    if (!existsSync(fixture)) writeFileSync(fixture, historyToJSON(await handle.fetchHistory()));
  });
  assert.equal(f.uploads().length, 3);
});

test('a reject ends the rollout as rejected and touches no further host', async () => {
  const f = fleet();
  await withWorker('ro-reject', f.activities, async () => {
    const handle = await start('ro-reject', plan({ canary: 1, approveAfterCanary: true }));
    await until(handle, waitingFor('approval'));
    await handle.executeUpdate('reject', { args: [{ by: 'bob', comment: 'error rate up' }] });
    const { type, message, progress } = await failure(handle);
    assert.equal(type, 'RolloutRejected');
    assert.equal(message, 'production: after canary: rejected by bob: error rate up');
    assert.equal(progress.phase, 'rejected');
  });
  assert.deepEqual(f.uploads(), ['web1']);
});

test('an approval that does not come in time rejects the rollout before any host is touched', async () => {
  const f = fleet();
  await withWorker('ro-timeout', f.activities, async () => {
    const handle = await start('ro-timeout', plan({ approveBefore: true }, { approvalTimeoutSeconds: 1 }));
    const { type, message, progress } = await failure(handle);
    assert.equal(type, 'RolloutRejected');
    assert.equal(message, 'production: before: no approval within 1s');
    assert.deepEqual(progress.approvals.map((a) => [a.decision, a.by, a.via]), [['rejected', 'timeout', 'timeout']]);
  });
  assert.deepEqual(f.uploads(), []);
});

test('an approver outside the allowlist is refused, by update and by signal, and recorded nowhere as an approval', async () => {
  const f = fleet();
  await withWorker('ro-allow', f.activities, async () => {
    const handle = await start('ro-allow', plan({ approveBefore: true }, { approvers: ['alice', 'bob'] }));
    await until(handle, waitingFor('approval'));
    assert.equal(await refusal(handle.executeUpdate('approve', { args: [{ by: 'mallory' }] })), 'mallory may not approve this rollout (approvers: alice, bob)');
    await handle.signal('approve', { by: 'mallory', comment: 'trust me' });
    const p = await until(handle, (x) => x.refused.length > 0);
    assert.deepEqual(p.refused.map((r) => [r.decision, r.by, r.reason]), [['approve', 'mallory', 'mallory may not approve this rollout (approvers: alice, bob)']]);
    assert.equal(p.phase, 'waiting-for-approval');
    assert.deepEqual(f.uploads(), []);
    await handle.signal('approve', { by: 'alice' });
    const result = await handle.result();
    assert.deepEqual(result.approvals.map((a) => [a.by, a.via]), [['alice', 'signal']]);
    assert.ok(!JSON.stringify((await handle.describe()).memo).includes('"by":"mallory"'));
  });
});

test('with forbidSelfApproval the one who started the rollout may not approve it; nothing waiting refuses too', async () => {
  const f = fleet();
  await withWorker('ro-self', f.activities, async () => {
    const handle = await start('ro-self', plan({ canary: 1, approveAfterCanary: true }, { startedBy: 'bob', forbidSelfApproval: true }));
    assert.match(await refusal(handle.executeUpdate('approve', { args: [{ by: 'carol' }] })), /^nothing is waiting for an approval/);
    await until(handle, waitingFor('approval'));
    assert.equal(await refusal(handle.executeUpdate('approve', { args: [{ by: 'bob' }] })), 'bob started this rollout and may not approve it');
    await handle.executeUpdate('approve', { args: [{ by: 'carol' }] });
    const result = await handle.result();
    assert.deepEqual(result.approvals.map((a) => a.by), ['carol']);
  });
});

test('a host that fails waits for an operator with the host and error; retry deploys it again', async () => {
  const f = fleet();
  f.failOn.add('web2');
  await withWorker('ro-retry', f.activities, async () => {
    const handle = await start('ro-retry', plan({ hosts: hosts(4), canary: 1, batch: 2 }));
    const p = await until(handle, waitingFor('operator'));
    assert.equal(p.phase, 'waiting-for-operator');
    assert.ok(p.waiting?.kind === 'operator');
    assert.equal(p.waiting.host, 'web2');
    assert.match(p.waiting.error, /^upload: web2: host key does not match/);
    assert.ok(!f.uploads().includes('web4'), 'the next batch waits');
    f.failOn.delete('web2');
    assert.match(await refusal(handle.executeUpdate('resume', { args: [{ action: 'retry', host: 'web1' }] })), /web1 is not a failed host \(failed: web2\)/);
    await handle.executeUpdate('resume', { args: [{ action: 'retry', by: 'ops' }] });
    const result = await handle.result();
    assert.equal(result.phase, 'done');
    assert.equal(result.stages[0]!.hosts.web2!.attempts, 2);
    assert.deepEqual(result.decisions.map((d) => [d.action, d.by]), [['retry', 'ops']]);
  });
  assert.equal(f.uploads().filter((h) => h === 'web2').length, 2);
  assert.equal(f.uploads().length, 5);
});

test('skip leaves the failed host behind and goes on; maxFailures tolerates failures without asking', async () => {
  const f = fleet();
  f.failOn.add('web1');
  await withWorker('ro-skip', f.activities, async () => {
    const handle = await start('ro-skip', plan({ hosts: hosts(3), canary: 1 }));
    await until(handle, waitingFor('operator'));
    await handle.signal('resume', { action: 'skip' });
    const result = await handle.result();
    assert.deepEqual(Object.values(result.stages[0]!.hosts).map((h) => h.outcome), ['skipped', 'ok', 'ok']);
  });
  const g = fleet();
  g.failOn.add('web2');
  const tolerant = await withWorker('ro-tolerate', g.activities, async () => (await start('ro-tolerate', plan({ maxFailures: 1 }))).result());
  assert.equal(tolerant.phase, 'done');
  assert.deepEqual(tolerant.decisions, []);
  assert.equal(tolerant.stages[0]!.hosts.web2!.outcome, 'failed');
});

test('abort ends the rollout and touches no further batch', async () => {
  const f = fleet();
  f.failOn.add('web1');
  await withWorker('ro-abort', f.activities, async () => {
    const handle = await start('ro-abort', plan({ canary: 1 }));
    await until(handle, waitingFor('operator'));
    await handle.executeUpdate('resume', { args: [{ action: 'abort', by: 'ops' }] });
    const { type, message, progress } = await failure(handle);
    assert.equal(type, 'RolloutAborted');
    assert.match(message, /^aborted by ops after web1 failed: upload: web1: host key/);
    assert.equal(progress.phase, 'aborted');
  });
  assert.deepEqual(f.uploads(), ['web1']);
});

test('rollback redeploys the version each touched host ran before, and stops nodes that ran none', async () => {
  const f = fleet({ web1: '0.1.0', web2: '0.1.0' });
  f.failOn.add('web2');
  await withWorker('ro-rollback', f.activities, async () => {
    const handle = await start('ro-rollback', plan({ hosts: hosts(4), canary: 1, batch: 2 }));
    await until(handle, waitingFor('operator'));
    f.failOn.delete('web2');
    await handle.executeUpdate('resume', { args: [{ action: 'rollback' }] });
    const { type, progress } = await failure(handle);
    assert.equal(type, 'RolloutRolledBack');
    const h = progress.stages[0]!.hosts;
    assert.deepEqual([h.web1, h.web2, h.web3].map((x) => [x!.outcome, x!.previousVersion, x!.version ?? null]), [
      ['rolled-back', '0.1.0', '0.1.0'],
      ['rolled-back', '0.1.0', '0.1.0'],
      ['rolled-back', null, null],
    ]);
    assert.equal(h.web4!.attempts, 0);
  });
  assert.deepEqual([f.running.get('web1'), f.running.get('web2'), f.running.has('web3')], ['0.1.0', '0.1.0', false]);
  assert.ok(f.calls.includes('lookup 0.1.0'));
  assert.ok(f.calls.includes('stop web3'));
  assert.ok(!f.uploads().includes('web4'));
});

test('pause holds the next batch until resume continue', async () => {
  const f = fleet();
  await withWorker('ro-pause', f.activities, async () => {
    const handle = await start('ro-pause', plan({ canary: 1, approveAfterCanary: true }));
    await until(handle, waitingFor('approval'));
    await handle.executeUpdate('pause', { args: [{ by: 'ops' }] });
    await handle.executeUpdate('approve', { args: [{ by: 'alice' }] });
    const p = await until(handle, waitingFor('pause'));
    assert.equal(p.phase, 'paused');
    assert.deepEqual(f.uploads(), ['web1']);
    await handle.executeUpdate('resume', { args: [{ action: 'continue' }] });
    assert.equal((await handle.result()).phase, 'done');
  });
  assert.equal(f.uploads().length, 3);
});

test('a long rollout continues as new between batches and finishes every host once', async () => {
  const f = fleet();
  const handle = await withWorker('ro-can', f.activities, async () => {
    const h = await start('ro-can', plan({ hosts: hosts(8), batch: 1 }, { continueAsNewAfterEvents: 60 }));
    await h.result();
    return h;
  });
  const result = await handle.result();
  assert.ok(result.runs >= 2, `continued as new ${result.runs} times`);
  assert.deepEqual(Object.values(result.stages[0]!.hosts).map((h) => [h.outcome, h.attempts]), Array(8).fill(['ok', 1]));
  assert.deepEqual([...f.uploads()].sort(), hosts(8).map((h) => h.name).sort());
});

test('a recorded rollout history replays on the current workflow code (determinism)', async () => {
  const history = JSON.parse(readFileSync(fixture, 'utf8'));
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'ro-approve');
});

test('stage migrations run once each, on the stage hosts: before its first batch and after its last, across continue-as-new', async () => {
  const f = fleet({ web9: '0.1.0' });
  const input: RolloutPlan = {
    ...plan({}),
    continueAsNewAfterEvents: 50,
    stages: [
      { environment: 'staging', hosts: [host(9)], migrations: { when: 'before', expression: 'HelloMix.Release.migrate()' } },
      { environment: 'production', hosts: hosts(4), batch: 1, migrations: { expression: 'HelloMix.Release.migrate()' } },
    ],
  };
  const result = await withWorker('ro-migrate', f.activities, async () => (await start('ro-migrate', input)).result());
  assert.ok(result.runs > 0, 'the rollout continued as new');
  const steps = f.calls.filter((c) => c.startsWith('migrate') || c.startsWith('upload')).map((c) => c.split(' ').slice(0, 2).join(' '));
  assert.deepEqual(steps, ['migrate web9', 'upload web9', 'upload web1', 'upload web2', 'upload web3', 'upload web4', 'migrate web1']);
  const keys = f.calls.filter((c) => c.startsWith('migrate')).map((c) => c.split(' ')[2]);
  assert.match(keys[0]!, /^ro-migrate_staging-before@[0-9a-f-]+$/);
  assert.match(keys[1]!, /^ro-migrate_production-after@[0-9a-f-]+$/);
  assert.equal(result.stages[1]!.migration?.output, 'up 1');
  assert.equal(result.stages[1]!.migration?.host, 'web1');
});

/** A plan from 0.1.0 to 0.2.0 with one risk (the real one is computed on the build host). */
const upgradePlan = (severity: 'restart' | 'warning'): UpgradePlan => ({
  from: '0.1.0', to: '0.2.0', erts: { from: '13.1.5', to: '13.1.5' },
  apps: [{ app: 'hello', from: '0.1.0', to: '0.2.0', change: 'upgraded', appup: 'generated' }],
  risks: [{ kind: 'nif', severity, app: 'hello', message: 'hello_nif: the NIF library changed' }],
});
const onOld = { web1: '0.1.0', web2: '0.1.0', web3: '0.1.0' };

test('an upgrade stage whose plan is safe hot-upgrades each host; the preflight is in the progress', async () => {
  const f = fleet(onOld, upgradePlan('warning'));
  const result = await withWorker('ro-up-hot', f.activities, async () => (await start('ro-up-hot', plan({ action: 'upgrade', canary: 1 }))).result());
  assert.equal(result.preflight?.decision, 'hot');
  assert.deepEqual(f.calls.filter((c) => c.startsWith('upgrade')).sort(), ['upgrade web1', 'upgrade web2', 'upgrade web3']);
  assert.ok(Object.values(result.stages[0]!.hosts).every((h) => h.outcome === 'ok' && h.fallback === undefined));
});

test('an upgrade stage whose plan needs a restart restarts the hosts onto the new release batch by batch (UPGRADE_FALLBACK=restart)', async () => {
  const f = fleet(onOld, upgradePlan('restart'));
  const result = await withWorker('ro-up-restart', f.activities, async () => (await start('ro-up-restart', plan({ action: 'upgrade', canary: 1, batch: 1 }))).result());
  assert.equal(result.preflight?.decision, 'restart');
  assert.match(result.preflight?.reason ?? '', /^a hot upgrade 0\.1\.0 -> 0\.2\.0 is unsafe: nif \(hello\): hello_nif: the NIF library changed; UPGRADE_FALLBACK=restart/);
  assert.deepEqual(f.calls.filter((c) => /^(upload|start|upgrade)/.test(c)), ['upload web1 0.2.0', 'start web1', 'upload web2 0.2.0', 'start web2', 'upload web3 0.2.0', 'start web3']);
  for (const h of Object.values(result.stages[0]!.hosts)) assert.deepEqual([h.outcome, h.version, h.fallback], ['ok', '0.2.0', 'restarted onto 0.2.0 instead of a hot upgrade (see the preflight)']);
});

test('an upgrade rollout with --hot-only whose plan needs a restart ends before any gate or host, naming the risk', async () => {
  const f = fleet(onOld, upgradePlan('restart'));
  await withWorker('ro-up-refuse', f.activities, async () => {
    const handle = await start('ro-up-refuse', plan({ action: 'upgrade', approveBefore: true }, { upgradeFallback: 'refuse' }));
    const { type, message, progress } = await failure(handle);
    assert.equal(type, 'UpgradeRefused');
    assert.match(message, /hello_nif: the NIF library changed; refused \(UPGRADE_FALLBACK=refuse or --hot-only\): no node was touched$/);
    assert.deepEqual([progress.phase, progress.preflight?.decision, progress.approvals.length], ['aborted', 'refuse', 0]);
  });
  assert.deepEqual(f.uploads(), []);
});
