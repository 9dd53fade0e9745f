import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RolloutHost, RolloutProgress } from '../../../core/domain/plan';
import type { DeployStatus } from '../../../core/domain/requests';
import { rollbackTarget } from '../../../core/domain/rollback';

const host = (name: string, h: Partial<RolloutHost>): RolloutHost => ({ host: name, batch: 0, step: 'done', attempts: 1, ...h });
const rollout = (hosts: RolloutHost[], extra: Partial<RolloutProgress> = {}): RolloutProgress => ({
  app: 'hello',
  version: '0.2.0',
  phase: 'done',
  stages: [{ environment: 'production', batches: [hosts.map((h) => h.host)], hosts: Object.fromEntries(hosts.map((h) => [h.host, h])) }],
  approvals: [],
  refused: [],
  decisions: [],
  passed: [],
  runs: 0,
  ...extra,
});
const status = (extra: Partial<DeployStatus>): DeployStatus => ({
  phase: 'done',
  app: 'hello',
  environment: 'production',
  version: '0.2.0',
  hosts: { web1: { host: 'web1', step: 'done' }, web2: { host: 'web2', step: 'done' }, web3: { host: 'web3', step: 'skipped' } },
  failed: 0,
  ...extra,
});
const hot = { decision: 'hot', policy: 'restart' } as const;

test('after a rollout of a release: the hosts it brought from 0.1.0 are redeployed with 0.1.0', () => {
  const p = rollout([host('web1', { outcome: 'ok', previousVersion: '0.1.0' }), host('web2', { outcome: 'ok', previousVersion: '0.1.0' }), host('web3', { outcome: 'failed', previousVersion: '0.1.0' })]);
  assert.deepEqual(rollbackTarget({ type: 'rollout', progress: p }), { from: '0.2.0', version: '0.1.0', hosts: ['web1', 'web2'], hot: false });
});

test('after a hot-upgrade rollout: a hot downgrade; a host restarted onto the upgrade instead makes it refuse the mix', () => {
  const hosts = [host('web1', { outcome: 'ok', previousVersion: '0.1.0' }), host('web2', { outcome: 'ok', previousVersion: '0.1.0' })];
  assert.equal(rollbackTarget({ type: 'rollout', progress: rollout(hosts, { preflight: hot }) }).hot, true);
  hosts[1]!.fallback = 'restarted';
  assert.throws(() => rollbackTarget({ type: 'rollout', progress: rollout(hosts, { preflight: hot }) }), {
    name: 'InputError',
    message: 'some hosts were hot-upgraded and others restarted (web1: hot, web2: restarted): roll back with `ferry rollout production --version=0.1.0 --host=H`',
  });
});

test('hosts that ran different versions, or none, are refused with what to run instead', () => {
  const p = rollout([host('web1', { outcome: 'ok', previousVersion: '0.1.0' }), host('web2', { outcome: 'ok', previousVersion: '0.0.9' }), host('web3', { outcome: 'ok', previousVersion: null })]);
  assert.throws(() => rollbackTarget({ type: 'rollout', progress: p }), {
    message: 'the hosts ran different versions before (web1: 0.1.0, web2: 0.0.9): roll back with `ferry rollout production --version=V --host=H`',
  });
  assert.throws(() => rollbackTarget({ type: 'rollout', progress: rollout([host('web1', { outcome: 'ok', previousVersion: null })]) }), {
    message: 'nothing to roll back: the last rollout (0.2.0) brought no host from an earlier version',
  });
});

test('after deploy upgrade: the upgraded hosts (not the skipped one) go back to the from-version, hot unless restarted', () => {
  assert.deepEqual(rollbackTarget({ type: 'deployUpgrade', status: status({ fromVersion: '0.1.0', preflight: hot }) }), { from: '0.2.0', version: '0.1.0', hosts: ['web1', 'web2'], hot: true });
  const restarted = status({ fromVersion: '0.1.0', preflight: { decision: 'restart', policy: 'restart' } });
  assert.equal(rollbackTarget({ type: 'upgradeEnvironment', status: restarted }).hot, false);
});

test('after a deploy: the version of the change before it, else a refusal naming the rollout to run', () => {
  assert.deepEqual(rollbackTarget({ type: 'deployRelease', status: status({}) }, '0.1.5'), { from: '0.2.0', version: '0.1.5', hosts: ['web1', 'web2'], hot: false });
  assert.throws(() => rollbackTarget({ type: 'updateRelease', status: status({}) }), {
    message: 'the last change was updateRelease 0.2.0, and no earlier change of production is recorded: roll back with `ferry rollout production --version=V`',
  });
});
