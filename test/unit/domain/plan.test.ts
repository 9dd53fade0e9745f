import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../../core/domain/errors';
import { planBatches, resolveSize, rolloutPlanSchema, withinFailureLimit, type RolloutPlan } from '../../../core/domain/plan';
import { parseRequest } from '../../../core/domain/requests';

const hosts = (n: number) => Array.from({ length: n }, (_, i) => `h${i + 1}`);
const sizes = (batches: string[][]) => batches.map((b) => b.length);

test('a canary of 1, then batches of 2', () => {
  assert.deepEqual(planBatches(hosts(5), { canary: 1, batch: 2 }), [['h1'], ['h2', 'h3'], ['h4', 'h5']]);
});

test('without canary or batch size, every host is in one batch', () => {
  assert.deepEqual(planBatches(hosts(3), {}), [['h1', 'h2', 'h3']]);
});

test('a ramp of 1, 2, 25% after the canary, then batches of 25% of the stage', () => {
  assert.deepEqual(sizes(planBatches(hosts(20), { canary: 1, ramp: [1, 2, '25%'], batch: '25%' })), [1, 1, 2, 5, 5, 5, 1]);
});

test('percentages round up and are at least one host', () => {
  assert.equal(resolveSize('10%', 5), 1);
  assert.equal(resolveSize('34%', 3), 2);
  assert.equal(resolveSize('100%', 7), 7);
  assert.equal(resolveSize(3, 100), 3);
  assert.deepEqual(sizes(planBatches(hosts(3), { batch: '1%' })), [1, 1, 1]);
});

test('sizes larger than what is left are clipped, and every host is in exactly one batch', () => {
  for (const n of [1, 2, 3, 7, 50]) {
    for (const s of [{ canary: 5 }, { canary: 1, ramp: [100, 1] }, { canary: 0, batch: '50%' as const }, { ramp: ['30%' as const], batch: 4 }]) {
      const batches = planBatches(hosts(n), s);
      assert.deepEqual(batches.flat(), hosts(n), JSON.stringify({ n, s }));
      assert.ok(batches.every((b) => b.length > 0));
    }
  }
  assert.deepEqual(planBatches(hosts(2), { canary: 5 }), [['h1', 'h2']]);
});

const host = { name: 'web1', address: 'web1', port: 22, user: 'deploy', deployTo: '/opt/apps', nodeName: 'hello@web1' };
const plan: RolloutPlan = { app: 'hello', version: '0.2.0', store: '/var/ferry/store', stages: [{ environment: 'production', hosts: [host] }] };

test('a minimal plan gets the documented defaults', () => {
  const p = parseRequest(rolloutPlanSchema, plan, 'rollout');
  assert.deepEqual(p.stages[0], {
    environment: 'production', hosts: [host], action: 'deploy', startDeploy: true, canary: 0, ramp: [], pauseSeconds: 0,
    maxFailures: 0, onFailure: 'halt', afterRollback: 'wait', healthCheck: true, approveBefore: false, approveAfterCanary: false,
  });
  assert.equal(p.forbidSelfApproval, false);
  assert.equal(p.continueAsNewAfterEvents, 2000);
});

test('a bad plan is refused naming every bad field', () => {
  const bad = {
    ...plan,
    version: '1; reboot',
    stages: [
      {
        environment: 'Prod', hosts: [], batch: '0%', ramp: [0], action: 'rollback', onFailure: 'panic', minHealthy: '0%',
        healthCommand: { command: [] }, healthHttp: { url: 'ftp://{host}/', expectStatus: 700 },
      },
    ],
  };
  assert.throws(() => parseRequest(rolloutPlanSchema, bad, 'rollout'), (err: unknown) => {
    assert.ok(err instanceof InputError);
    for (const field of ['version', 'stages.0.environment', 'stages.0.hosts', 'stages.0.batch', 'stages.0.ramp.0', 'stages.0.action',
      'stages.0.onFailure', 'stages.0.minHealthy', 'stages.0.healthCommand.command', 'stages.0.healthHttp.url', 'stages.0.healthHttp.expectStatus']) {
      assert.match(err.message, new RegExp(`${field.replaceAll('.', '\\.')}: `));
    }
    return true;
  });
});

test('the failure limit: at most maxFailures failed hosts, and at least minHealthy (count or percentage) not failed', () => {
  assert.equal(withinFailureLimit({ maxFailures: 0 }, 5, 0), true);
  assert.equal(withinFailureLimit({ maxFailures: 0 }, 5, 1), false);
  assert.equal(withinFailureLimit({ maxFailures: 2, minHealthy: '80%' }, 5, 1), true);
  assert.equal(withinFailureLimit({ maxFailures: 2, minHealthy: '80%' }, 5, 2), false);
  assert.equal(withinFailureLimit({ maxFailures: 9, minHealthy: 3 }, 4, 1), true);
  assert.equal(withinFailureLimit({ maxFailures: 9, minHealthy: 3 }, 4, 2), false);
  assert.equal(withinFailureLimit({ maxFailures: 9, minHealthy: 10 }, 4, 0), true, 'minHealthy above the stage size means every host');
});
