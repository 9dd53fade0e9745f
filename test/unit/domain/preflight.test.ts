import assert from 'node:assert/strict';
import { test } from 'node:test';
import { preflight, preflightMemo } from '../../../core/domain/preflight';
import type { StoredRelease } from '../../../core/domain/release';
import type { UpgradePlan, UpgradeRisk } from '../../../core/domain/upgrade-plan';

const upgrade: StoredRelease = {
  app: 'hello', version: '0.3.0', type: 'upgrade', fromVersion: '0.2.0', sha256: 'ab'.repeat(32), size: 1, storeKey: '/s/hello_0.3.0.upgrade.tar.gz', builtAt: '2026-01-01T00:00:00Z',
};
const plan = (risks: UpgradeRisk[]): UpgradePlan => ({ from: '0.2.0', to: '0.3.0', erts: { from: '13.1.5', to: '13.2' }, apps: [], risks });
const erts: UpgradeRisk = { kind: 'erts', severity: 'restart', message: 'ERTS 13.1.5 -> 13.2 needs restart_new_emulator' };
const state: UpgradeRisk = { kind: 'state', severity: 'restart', app: 'hello', module: 'hello_server', message: 'hello_server: the state record changed without a code_change' };
const config: UpgradeRisk = { kind: 'config', severity: 'warning', app: 'hello', message: 'sys.config changed; hello has config_change/3' };

test('an upgrade without a plan goes hot, saying that no preflight is available, whatever the policy', () => {
  for (const policy of ['restart', 'refuse'] as const) {
    const p = preflight(upgrade, policy);
    assert.deepEqual([p.decision, p.policy, p.plan], ['hot', policy, undefined]);
    assert.equal(p.reason, 'no preflight available: the manifest of hello 0.3.0 has no upgrade plan (built by an older Ferry, or uploaded); going hot, checked on each node afterwards');
  }
});

test('a plan with warnings only goes hot, without a reason', () => {
  assert.deepEqual(preflight({ ...upgrade, plan: plan([config]) }, 'refuse'), { decision: 'hot', policy: 'refuse', plan: plan([config]) });
});

test('a plan with restart risks restarts under UPGRADE_FALLBACK=restart and names every such risk, not the warnings', () => {
  const p = preflight({ ...upgrade, plan: plan([erts, config, state]) }, 'restart');
  assert.equal(p.decision, 'restart');
  assert.equal(
    p.reason,
    'a hot upgrade 0.2.0 -> 0.3.0 is unsafe: erts: ERTS 13.1.5 -> 13.2 needs restart_new_emulator; state (hello): hello_server: the state record changed without a code_change; UPGRADE_FALLBACK=restart: a rolling restart onto 0.3.0 instead',
  );
  assert.deepEqual(preflightMemo(p), { decision: 'restart', policy: 'restart', reason: p.reason });
});

test('a plan with restart risks is refused under UPGRADE_FALLBACK=refuse (--hot-only)', () => {
  const p = preflight({ ...upgrade, plan: plan([state]) }, 'refuse');
  assert.equal(p.decision, 'refuse');
  assert.match(p.reason ?? '', /hello_server: the state record changed without a code_change; refused \(UPGRADE_FALLBACK=refuse or --hot-only\): no node was touched$/);
});
