import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rolloutPlan } from '../../../client/requests';
import { parseDeliveryConfig } from '../../../core/config/parse';
import { deliveryConfigSchema, type DeliveryConfig } from '../../../core/config/schema';
import { InputError } from '../../../core/domain/errors';
import { rolloutPlanSchema } from '../../../core/domain/plan';
import { parseRequest } from '../../../core/domain/requests';

const vars: Record<string, string> = {
  APP: 'hello',
  BUILD_HOST: 'build.example.com',
  BUILD_USER: 'builder',
  BUILD_AT: '/tmp/edeliver/hello/builds',
  STAGING_HOSTS: 'stage1',
  PRODUCTION_HOSTS: 'web1 web2 web3 web4 web5',
  PRODUCTION_USER: 'deploy',
  STAGING_USER: 'deploy',
  DELIVER_TO: '/opt/apps',
};
const ctx = { source: '.deliver/config', projectDir: '/home/ana/hello', detectedTool: 'rebar3' as const };

function config(extra: Record<string, string> = {}): DeliveryConfig {
  const r = parseDeliveryConfig({ ...vars, ...extra }, ctx);
  if (!r.ok) assert.fail(r.errors.join('\n'));
  return r.config;
}

test('<ENV>_REQUIRE_APPROVAL, _CANARY, _RAMP, _BATCH, _PAUSE, _MAX_FAILURES, _APPROVAL_TIMEOUT and APPROVERS are read', () => {
  const c = config({
    PRODUCTION_REQUIRE_APPROVAL: 'true', PRODUCTION_CANARY: '1', PRODUCTION_RAMP: '1 25%', PRODUCTION_BATCH: '2',
    PRODUCTION_PAUSE: '30', PRODUCTION_MAX_FAILURES: '1', PRODUCTION_APPROVAL_TIMEOUT: '3600', APPROVERS: 'alice bob', FORBID_SELF_APPROVAL: 'yes',
  });
  assert.deepEqual(c.environments.production?.rollout, {
    requireApproval: true, canary: 1, ramp: [1, '25%'], batch: 2, pauseSeconds: 30, maxFailures: 1, approvalTimeoutSeconds: 3600,
  });
  assert.equal(c.environments.staging?.rollout, undefined);
  assert.deepEqual([c.approvers, c.forbidSelfApproval], [['alice', 'bob'], true]);
  assert.deepEqual(deliveryConfigSchema.parse(c), c);
});

test('bad rollout variables are all reported, each with its name', () => {
  const r = parseDeliveryConfig({ ...vars, PRODUCTION_REQUIRE_APPROVAL: 'maybe', PRODUCTION_CANARY: '-1', PRODUCTION_BATCH: '0%', PRODUCTION_RAMP: '1 x' }, ctx);
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.deepEqual(r.errors, [
    '.deliver/config: PRODUCTION_BATCH: "0%" must be a host count or a percentage like 25%',
    '.deliver/config: PRODUCTION_CANARY: "-1" must be a whole number of at least 0',
    '.deliver/config: PRODUCTION_RAMP: "x" must be a host count or a percentage like 25%',
    '.deliver/config: PRODUCTION_REQUIRE_APPROVAL: "maybe" is not a yes/no value: set PRODUCTION_REQUIRE_APPROVAL=true or PRODUCTION_REQUIRE_APPROVAL=false',
  ]);
});

test('the plan takes the config settings; an approval goes after the canary, and the plan validates', () => {
  const plan = rolloutPlan(config({ PRODUCTION_REQUIRE_APPROVAL: 'true', PRODUCTION_CANARY: '1', PRODUCTION_BATCH: '2', APPROVERS: 'alice' }), ['production'], { version: '0.2.0' }, 'ana');
  const stage = plan.stages[0]!;
  assert.deepEqual([stage.canary, stage.batch, stage.approveAfterCanary, stage.approveBefore, stage.hosts.length], [1, 2, true, false, 5]);
  assert.deepEqual([plan.startedBy, plan.approvers], ['ana', ['alice']]);
  assert.doesNotThrow(() => parseRequest(rolloutPlanSchema, JSON.parse(JSON.stringify(plan)), 'rollout'));
});

test('flags override the config; without a canary the approval comes before the stage; stages keep their order', () => {
  const plan = rolloutPlan(config({ PRODUCTION_CANARY: '2' }), ['staging', 'production'], { version: '0.2.0', canary: 0, approve: true, ramp: ['1', '50%'], host: ['web1', 'web2'] }, 'ana');
  assert.deepEqual(plan.stages.map((s) => s.environment), ['staging', 'production']);
  assert.deepEqual(plan.stages[1], {
    environment: 'production', hosts: plan.stages[1]!.hosts, canary: 0, ramp: [1, '50%'], pauseSeconds: 0, maxFailures: 0,
    startDeploy: true, approveBefore: true, approveAfterCanary: false,
  });
  assert.deepEqual(plan.stages[1]!.hosts.map((h) => h.name), ['web1', 'web2']);
});

test('bad flags are refused before anything starts', () => {
  const c = config();
  assert.throws(() => rolloutPlan(c, ['production'], { version: '0.2.0', batch: '150%' }, 'ana'), InputError);
  assert.throws(() => rolloutPlan(c, ['production'], { version: '0.2.0', canary: -1 }, 'ana'), /--canary must be a whole number/);
  assert.throws(() => rolloutPlan(c, ['moon'], { version: '0.2.0' }, 'ana'), /unknown environment "moon"/);
  assert.throws(() => rolloutPlan(c, [], { version: '0.2.0' }, 'ana'), /usage: ferry rollout/);
});

test('versioning flags become workflow input; AUTO_VERSION applies unless --auto-version overrides it; bad values are refused', async () => {
  const { buildRequest, versioningOf } = await import('../../../client/requests');
  const result = parseDeliveryConfig(
    { APP: 'hello', BUILD_HOST: 'b', BUILD_USER: 'u', BUILD_AT: '/b', AUTO_VERSION: 'commit-count', PRODUCTION_HOSTS: 'w', PRODUCTION_USER: 'd', DELIVER_TO: '/o' },
    { source: '.deliver/config', projectDir: '/p', detectedTool: 'rebar3' },
  );
  assert.ok(result.ok);
  const c = result.config;
  assert.deepEqual(versioningOf(c, {}), { auto: ['commit-count'] });
  assert.deepEqual(versioningOf(c, { autoVersion: 'git-revision', incrementVersion: 'minor' }), { increment: 'minor', auto: ['revision'] });
  assert.deepEqual(buildRequest({ ...c, autoVersion: undefined }, { setVersion: '2.0.0' }).versioning, { set: '2.0.0' });
  assert.equal(buildRequest({ ...c, autoVersion: undefined }, {}).versioning, undefined);
  assert.throws(() => versioningOf(c, { incrementVersion: 'tiny' }), /--increment-version=tiny: use patch, minor or major/);
  assert.deepEqual(versioningOf(c, { setVersion: '2.0', autoVersion: 'git-revision' }), { set: '2.0', auto: ['revision'] });
  assert.throws(() => versioningOf(c, { setVersion: '2.0+x' }), /^InputError: --set-version: invalid version "2\.0\+x": give it without \+metadata/);
  assert.throws(() => versioningOf(c, { setVersion: '1;id' }), /^InputError: --set-version: invalid version "1;id": ";" is not allowed/);
  assert.throws(() => versioningOf(c, { autoVersion: 'rev;rm' }), /unknown part "rev;rm"/);
});

test('<ENV>_ON_FAILURE, _AFTER_ROLLBACK, _MIN_HEALTHY and _HEALTH_* become the stage\'s failure policy and health checks; flags win', () => {
  const c = config({
    PRODUCTION_ON_FAILURE: 'rollback-batch', PRODUCTION_AFTER_ROLLBACK: 'end', PRODUCTION_MIN_HEALTHY: '80%',
    PRODUCTION_HEALTH_COMMAND: 'bin/check --quick', PRODUCTION_HEALTH_URL: 'http://{host}:4000/health', PRODUCTION_HEALTH_RETRIES: '5',
  });
  assert.deepEqual(deliveryConfigSchema.parse(c), c);
  const stage = rolloutPlan(c, ['production'], { version: '0.2.0' }, 'ana').stages[0]!;
  assert.deepEqual([stage.onFailure, stage.afterRollback, stage.minHealthy], ['rollback-batch', 'end', '80%']);
  assert.deepEqual(stage.healthCommand, { command: ['bin/check', '--quick'], retries: 5, intervalSeconds: 2, timeoutSeconds: 10 });
  assert.deepEqual(stage.healthHttp, { url: 'http://{host}:4000/health', expectStatus: 200, retries: 5, intervalSeconds: 2, timeoutSeconds: 10 });
  const flagged = rolloutPlan(c, ['production'], { version: '0.2.0', onFailure: 'rollback-stage', healthStatus: 204, healthInterval: 0.5, upgrade: true }, 'ana');
  const s = parseRequest(rolloutPlanSchema, flagged, 'rollout').stages[0]!;
  assert.deepEqual([s.onFailure, s.action, s.healthHttp?.expectStatus, s.healthHttp?.intervalSeconds], ['rollback-stage', 'upgrade', 204, 0.5]);
  assert.throws(() => rolloutPlan(c, ['production'], { version: '0.2.0', onFailure: 'retry' }, 'ana'), /--on-failure: "retry" must be one of halt, rollback-batch, rollback-stage/);
  assert.throws(() => rolloutPlan(c, ['production'], { version: '0.2.0', healthUrl: 'ftp://{host}/' }, 'ana'), /health URL "ftp:\/\/\{host\}\/" must be an http/);
  const bad = parseDeliveryConfig({ ...vars, PRODUCTION_ON_FAILURE: 'panic' }, ctx);
  assert.ok(!bad.ok && bad.errors.some((e) => /PRODUCTION_ON_FAILURE: "panic" must be one of halt, rollback-batch, rollback-stage/.test(e)), JSON.stringify(bad));
});

test('<ENV>_BAKE, _BAKE_INTERVAL and _BAKE_EVAL become the stage\'s bake; --bake flags win; bad values are named', () => {
  const c = config({ PRODUCTION_BAKE: '1h30m', PRODUCTION_BAKE_INTERVAL: '5m', PRODUCTION_BAKE_EVAL: 'length(processes()) < 100000.' });
  assert.deepEqual(deliveryConfigSchema.parse(c), c);
  const stage = rolloutPlan(c, ['production'], { version: '0.2.0' }, 'ana').stages[0]!;
  assert.deepEqual(stage.bake, { seconds: 5400, intervalSeconds: 300, erlang: 'length(processes()) < 100000.' });
  assert.equal(rolloutPlan(c, ['staging'], { version: '0.2.0' }, 'ana').stages[0]!.bake, undefined);
  const flagged = rolloutPlan(config(), ['production'], { version: '0.2.0', bake: '15m' }, 'ana');
  assert.deepEqual(parseRequest(rolloutPlanSchema, flagged, 'rollout').stages[0]!.bake, { seconds: 900, intervalSeconds: 60 });
  assert.throws(() => rolloutPlan(config(), ['production'], { version: '0.2.0', bake: '15 minutes' }, 'ana'), /^InputError: --bake: "15 minutes" must be a duration above zero, e\.g\. 15m/);
  assert.throws(() => rolloutPlan(config(), ['production'], { version: '0.2.0', bakeEval: 'ok.' }, 'ana'), /--bake-interval and --bake-eval go with --bake=DURATION/);
  assert.throws(() => rolloutPlan(config(), ['production'], { version: '0.2.0', bake: '1m', bakeEval: 'halt()' }, 'ana'), /--bake-eval: must be one Erlang expression on one line ending with a dot/);
  const bad = parseDeliveryConfig({ ...vars, PRODUCTION_BAKE: '0m', PRODUCTION_BAKE_EVAL: 'ok' }, ctx);
  assert.ok(!bad.ok, 'refused');
  if (bad.ok) return;
  assert.ok(bad.errors.some((e) => /PRODUCTION_BAKE: "0m" must be a duration above zero/.test(e)), JSON.stringify(bad.errors));
  assert.ok(bad.errors.some((e) => /PRODUCTION_BAKE_EVAL: must be one Erlang expression on one line ending with a dot/.test(e)), JSON.stringify(bad.errors));
});

test('<ENV>_DEPLOY_WINDOW becomes the stage\'s window; a bad one is named with what is wrong', () => {
  const c = config({ PRODUCTION_DEPLOY_WINDOW: 'Mon-Fri 09:00-17:00 Europe/Berlin' });
  assert.deepEqual(deliveryConfigSchema.parse(c), c);
  const plan = rolloutPlan(c, ['production'], { version: '0.2.0' }, 'ana');
  assert.deepEqual(parseRequest(rolloutPlanSchema, plan, 'rollout').stages[0]!.window, { days: [1, 2, 3, 4, 5], start: 540, end: 1020, zone: 'Europe/Berlin', text: 'Mon-Fri 09:00-17:00 Europe/Berlin' });
  const bad = parseDeliveryConfig({ ...vars, PRODUCTION_DEPLOY_WINDOW: 'Mon-Fri 09:00-17:00 Berlin' }, ctx);
  assert.ok(!bad.ok && bad.errors.some((e) => /PRODUCTION_DEPLOY_WINDOW: "Berlin" is not an IANA time zone/.test(e)), JSON.stringify(bad));
});
