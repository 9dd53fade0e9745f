import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError, shown } from '../../../core/domain/errors';
import { absolutePath, hostName, nodeName, parseSshTarget } from '../../../core/domain/host';
import { LIMITS } from '../../../core/domain/limits';
import { rolloutPlanSchema, type RolloutPlan } from '../../../core/domain/plan';
import { appName, gitRef } from '../../../core/domain/release';
import { deployRequestSchema, hostDeployRequestSchema, parseRequest, storedReleaseSchema, type DeployRequest } from '../../../core/domain/requests';

const host = { name: 'web1', address: 'web1', port: 22, user: 'deploy', deployTo: '/opt/apps', nodeName: 'hello@web1' };
const deploy: DeployRequest = { app: 'hello', environment: 'production', version: '0.1.0', hosts: [host], store: '/var/ferry/releases' };
const release = { app: 'hello', version: '0.1.0', type: 'release' as const, sha256: 'ab'.repeat(32), size: 10, storeKey: '/s/hello_0.1.0.release.tar.gz', builtAt: '2026-01-01T00:00:00Z' };
const hosts = (n: number) => Array.from({ length: n }, (_, i) => ({ ...host, name: `web${i}`, address: `web${i}` }));

/** The InputError message parsing `input` with `schema` gives, or undefined when it is valid. */
function problem(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    assert.ok(err instanceof InputError, String(err));
    return err.message;
  }
}
const deployProblem = (patch: Partial<DeployRequest>) => problem(() => parseRequest(deployRequestSchema, { ...deploy, ...patch }, 'deploy'));

test('a deploy names at most 1000 hosts, each name once', () => {
  assert.equal(deployProblem({ hosts: hosts(LIMITS.hosts) }), undefined);
  assert.equal(deployProblem({ hosts: hosts(LIMITS.hosts + 1) }), 'invalid deploy request: hosts: at most 1000 hosts');
  assert.equal(deployProblem({ hosts: [host, { ...host, address: 'web2' }] }), 'invalid deploy request: hosts.1.name: "web1" is listed twice');
});

test('app and environment names are at most 64 characters', () => {
  assert.equal(deployProblem({ app: 'a'.repeat(64), environment: 'e'.repeat(64) }), undefined);
  assert.equal(
    deployProblem({ app: 'a'.repeat(65), environment: 'e'.repeat(65) }),
    'invalid deploy request: app: must be at most 64 characters; environment: must be at most 64 characters',
  );
  assert.equal(problem(() => appName('a'.repeat(65))), `invalid app name "${'a'.repeat(65)}": at most 64 characters`);
});

test('host names, users, paths, node names and git refs are bounded, and the message quotes only the start of the value', () => {
  const long = (n: number) => 'a'.repeat(n);
  assert.equal(parseSshTarget(`${long(63)}.${long(63)}.${long(63)}.${long(61)}`, 'u', 'host').address.length, 253);
  assert.match(problem(() => parseSshTarget(`${long(63)}.${long(63)}.${long(63)}.${long(62)}`, 'u', 'host')) ?? '', /is longer than 253 characters$/);
  assert.match(problem(() => parseSshTarget(long(300_000), 'u', 'host')) ?? '', /^host: host "a{80}"… \(300000 characters\) is too long$/);
  assert.match(problem(() => parseSshTarget('web1', long(65), 'host')) ?? '', /user name "a+" is longer than 64 characters$/);
  assert.equal(absolutePath(`/${long(1023)}`, 'p').length, 1024);
  assert.match(problem(() => absolutePath(`/${long(1024)}`, 'p')) ?? '', /is longer than 1024 characters$/);
  assert.equal(nodeName(`${long(200)}@${long(54)}`, 'n').length, 255);
  assert.match(problem(() => nodeName(`${long(200)}@${long(55)}`, 'n')) ?? '', /is longer than 255 characters$/);
  assert.match(problem(() => gitRef(long(256), 'ref')) ?? '', /at most 255 characters$/);
  assert.match(problem(() => hostName(`web1:22\n-x`, 'name')) ?? '', /^name: invalid host name "web1:22\\n-x": /);
  assert.equal(hostName('[::1]:2222', 'name'), '[::1]:2222');
});

test('shown() JSON-quotes a value and cuts it after 80 characters', () => {
  assert.equal(shown('a\nb'), '"a\\nb"');
  assert.equal(shown('x'.repeat(100)), `"${'x'.repeat(80)}"… (100 characters)`);
});

test('parseRequest names at most 20 problems, each cut at 300 characters', () => {
  const bad = hosts(30).map((h) => ({ ...h, deployTo: 'relative' }));
  const message = deployProblem({ hosts: bad }) ?? '';
  assert.equal(message.split('; ').length, 21);
  assert.match(message, /; and 10 more$/);
  const huge = problem(() => parseRequest(deployRequestSchema, { ...deploy, ['k'.repeat(100_000)]: 1 }, 'deploy')) ?? '';
  assert.ok(huge.length < 400, `${huge.length} characters`);
});

test('a rollout plan bounds its stages, waits, approvers and who started it', () => {
  const stage = { environment: 'production', hosts: [host] };
  const plan: RolloutPlan = { app: 'hello', version: '0.1.0', store: '/s', stages: [stage] };
  const planProblem = (p: Partial<RolloutPlan>) => problem(() => parseRequest(rolloutPlanSchema, { ...plan, ...p }, 'rollout'));
  assert.equal(planProblem({ stages: Array.from({ length: 20 }, () => stage), approvalTimeoutSeconds: LIMITS.waitSeconds }), undefined);
  assert.equal(planProblem({ stages: Array.from({ length: 21 }, () => stage) }), 'invalid rollout request: stages: at most 20 stages');
  assert.equal(planProblem({ approvalTimeoutSeconds: LIMITS.waitSeconds + 1 }), 'invalid rollout request: approvalTimeoutSeconds: must be at most 30 days');
  assert.equal(planProblem({ stages: [{ ...stage, pauseSeconds: 1e300 }] }), 'invalid rollout request: stages.0.pauseSeconds: must be at most 30 days');
  assert.equal(planProblem({ approvers: Array.from({ length: 101 }, (_, i) => `p${i}`) }), 'invalid rollout request: approvers: at most 100 approvers');
  assert.equal(planProblem({ startedBy: 'ana\nbob' }), 'invalid rollout request: startedBy: must be one line without control characters');
  assert.equal(planProblem({ startedBy: 'Ana María' }), undefined);
});

test('a host child takes a manifest of its own app, keeping fields it does not know', () => {
  const input = { host, app: 'hello', release: { ...release, plan: { steps: [] } }, store: '/s', startDeploy: false };
  assert.deepEqual(parseRequest(hostDeployRequestSchema, input, 'hostDeploy').release, { ...release, plan: { steps: [] } });
  assert.equal(
    problem(() => parseRequest(hostDeployRequestSchema, { ...input, release: { ...release, app: 'other' } }, 'hostDeploy')),
    'invalid hostDeploy request: release.app: is a release of another app',
  );
  assert.equal(
    problem(() => parseRequest(storedReleaseSchema, { ...release, sha256: 'x' }, 'manifest')),
    'invalid manifest request: sha256: must be 64 lower-case hex digits',
  );
});
