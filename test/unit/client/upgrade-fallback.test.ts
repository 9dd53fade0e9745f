import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deployUpgradeRequest, rolloutPlan, upgradeEnvironmentRequest } from '../../../client/requests';
import { parseDeliveryConfig } from '../../../core/config/parse';
import type { DeliveryConfig } from '../../../core/config/schema';
import { InputError } from '../../../core/domain/errors';
import { deployUpgradeRequestSchema, parseRequest } from '../../../core/domain/requests';

const vars: Record<string, string> = {
  APP: 'hello',
  BUILD_HOST: 'build.example.com',
  BUILD_USER: 'builder',
  BUILD_AT: '/tmp/edeliver/hello/builds',
  PRODUCTION_HOSTS: 'web1 web2',
  PRODUCTION_USER: 'deploy',
  DELIVER_TO: '/opt/apps',
};
const ctx = { source: '.deliver/config', projectDir: '/home/ana/hello', detectedTool: 'rebar3' as const };
function config(extra: Record<string, string> = {}): DeliveryConfig {
  const r = parseDeliveryConfig({ ...vars, ...extra }, ctx);
  if (!r.ok) assert.fail(r.errors.join('\n'));
  return r.config;
}

test('UPGRADE_FALLBACK is read; unset means restart, --hot-only means refuse, for deploy upgrade, upgrade and rollout --upgrade', () => {
  assert.equal(config().upgradeFallback, undefined);
  assert.equal(deployUpgradeRequest(config(), 'production', {}).upgradeFallback, 'restart');
  assert.equal(deployUpgradeRequest(config({ UPGRADE_FALLBACK: 'refuse' }), 'production', {}).upgradeFallback, 'refuse');
  assert.equal(deployUpgradeRequest(config(), 'production', { hotOnly: true }).upgradeFallback, 'refuse');
  assert.equal(upgradeEnvironmentRequest(config(), 'production', { hotOnly: true }).upgradeFallback, 'refuse');
  assert.equal(upgradeEnvironmentRequest(config({ UPGRADE_FALLBACK: 'restart' }), 'production', {}).upgradeFallback, 'restart');
  assert.equal(rolloutPlan(config(), ['production'], { version: '0.2.0', upgrade: true, hotOnly: true }, 'ana').upgradeFallback, 'refuse');
  assert.equal(rolloutPlan(config(), ['production'], { version: '0.2.0' }, 'ana').upgradeFallback, undefined, 'a rollout of a release has no upgrade');
});

test('a bad UPGRADE_FALLBACK is refused naming the file, the variable and the choices', () => {
  const r = parseDeliveryConfig({ ...vars, UPGRADE_FALLBACK: 'downgrade' }, ctx);
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.deepEqual(r.errors, ['.deliver/config: UPGRADE_FALLBACK: "downgrade" is not supported: set UPGRADE_FALLBACK="restart" (a rolling restart when a hot upgrade is unsafe) or UPGRADE_FALLBACK="refuse"']);
});

test('--hot-only without --upgrade is refused for a rollout', () => {
  assert.throws(() => rolloutPlan(config(), ['production'], { version: '0.2.0', hotOnly: true }, 'ana'), (e: unknown) => e instanceof InputError && /--hot-only goes with --upgrade/.test(e.message));
});

test('the workflow refuses a policy it does not know, as typed into temporal workflow start', () => {
  const request = { ...deployUpgradeRequest(config(), 'production', {}), upgradeFallback: 'maybe' };
  assert.throws(() => parseRequest(deployUpgradeRequestSchema, request, 'deployUpgrade'), /invalid deployUpgrade request: upgradeFallback: /);
  assert.equal(parseRequest(deployUpgradeRequestSchema, { ...request, upgradeFallback: undefined }, 'deployUpgrade').upgradeFallback, 'restart');
});
