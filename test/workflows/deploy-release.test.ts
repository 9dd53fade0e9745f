import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import type { Activities } from '../../activities';
import { HostKeyError } from '../../core/domain/errors';
import type { HostTarget } from '../../core/domain/host';
import type { DeployRequest, DeployStatus } from '../../core/domain/requests';
import { workflowEnv, workflowBundle } from '../support/workflow-env';

const fixture = join(__dirname, 'fixtures', 'deploy-release.history.json');

const wf = workflowEnv();
const { withWorker } = wf;

const host = (n: number): HostTarget => ({
  name: `web${n}:22`, address: `web${n}`, port: 22, user: 'deploy', deployTo: '/opt/apps', nodeName: `hello@web${n}`,
});
const request = (hosts: HostTarget[], extra: Partial<DeployRequest> = {}): DeployRequest => ({
  app: 'hello', environment: 'production', version: '0.2.0', hosts, store: '/var/ferry/store', startDeploy: true, ...extra,
});

/** Activities that record what they were asked to do; `failOn` makes one host's upload fail like a bad host key. */
function recordingActivities(calls: string[], opts: { failOn?: string; delayMs?: number; inFlight?: { now: number; max: number }; built?: boolean } = {}): Activities {
  const step = async (name: string, h: string) => {
    calls.push(`${name} ${h}`);
    if (opts.inFlight) opts.inFlight.max = Math.max(opts.inFlight.max, ++opts.inFlight.now);
    await new Promise((r) => setTimeout(r, opts.delayMs ?? 0));
    if (opts.inFlight) opts.inFlight.now--;
  };
  const release = { app: 'hello', version: '0.2.0', type: 'release' as const, sha256: 'ab'.repeat(32), size: 10, storeKey: '/var/ferry/store/hello_0.2.0.release.tar.gz', builtAt: '2026-01-01T00:00:00Z' };
  return {
    lookupRelease: async () => release,
    runMigration: async (t) => (calls.push(`migrate ${t.host.name} ${t.expression}`), { output: 'up 1', recorded: false }),
    migrationStatus: async () => ({ output: '', recorded: false }),
    uploadRelease: async (t) => {
      await step('upload', t.host.name);
      if (t.host.name === opts.failOn) throw new HostKeyError(t.host.name, 'mismatch', '/home/deploy/.ssh/known_hosts');
      return { sent: true, via: 'worker' as const };
    },
    unpackRelease: async (t) => step('unpack', t.host.name),
    configureNode: async (t) => step('configure', t.host.name),
    clusterView: notUsed,
    startNode: async (t) => (await step('start', t.host.name), { action: 'started' as const }),
    stopNode: async (t) => ({ host: t.host.name, running: false }),
    nodeState: async (t) => ({ host: t.host.name, running: true, version: '0.2.0' }),
    verifyRunning: async (t) => ({ host: t.host.name, running: true, version: '0.2.0' }),
    verifyNode: async (t) => (await step('verify', t.host.name), { host: t.host.name, running: true, version: t.version }),
    pruneHostReleases: async (t) => ({ host: t.host.name, running: '0.2.0', kept: ['0.2.0'], removed: [] }),
    findBuiltRelease: async (t) => (calls.push(`find ${t.revision.slice(0, 4)}`), opts.built ? { ...release, gitRevision: t.revision } : undefined),
    resolveRevision: async () => ({ revision: 'f'.repeat(40), branch: 'main' }),
    pushSource: async () => void calls.push('push'),
    compileRelease: async () => (calls.push('compile'), { version: '0.2.0', remoteTarball: '/b/hello-0.2.0.tar.gz', output: { tail: 'ok', length: 2 } }),
    fetchRelease: async () => (calls.push('fetch'), release),
    prepareBuild: async () => { throw new Error('not used: no hooks or versioning here'); },
    versionFacts: async () => { throw new Error('not used: no hooks or versioning here'); },
    runHook: async () => { throw new Error('not used: no hooks here'); },
    ...upgradeActivitiesNotUsed,
  };
}

const notUsed = async (): Promise<never> => {
  throw new Error('not used by deployRelease');
};
const upgradeActivitiesNotUsed = {
  findRelease: notUsed, newestUpgrade: notUsed, readVersionAt: notUsed, makeRelup: notUsed,
  nodeIdentity: notUsed, awaitNodeIdentity: notUsed, nodeSupervision: notUsed, upgradeNode: notUsed, downgradeNode: notUsed, healthCommand: notUsed, healthEval: notUsed, notify: notUsed, probeHttp: notUsed,
};


test('deploys every host through upload, unpack, configure, start and verify', async () => {
  const calls: string[] = [];
  const status = await withWorker('wf-ok', recordingActivities(calls), () =>
    wf.client.workflow.execute('deployRelease', { taskQueue: 'wf-ok', workflowId: 'wf-ok', args: [request([host(1)])] }),
  ) as DeployStatus;
  assert.deepEqual(calls, ['upload web1:22', 'unpack web1:22', 'configure web1:22', 'start web1:22', 'verify web1:22']);
  assert.equal(status.phase, 'done');
  assert.deepEqual(status.hosts['web1:22'], { host: 'web1:22', step: 'done', sent: true, via: 'worker', version: '0.2.0' });
  // Save a history for the replay test the first time (and whenever the fixture is deleted on purpose).
  if (!existsSync(fixture)) writeFileSync(fixture, historyToJSON(await wf.client.workflow.getHandle('wf-ok').fetchHistory()));
});

test('a host that fails does not stop the others; the deploy fails naming it, with the report in its details', async () => {
  const calls: string[] = [];
  const err = await withWorker('wf-fail', recordingActivities(calls, { failOn: 'web2:22' }), () =>
    wf.client.workflow.execute('deployRelease', { taskQueue: 'wf-fail', workflowId: 'wf-fail', args: [request([host(1), host(2), host(3)])] }),
  ).catch((e: unknown) => e);
  assert.ok(err instanceof WorkflowFailedError);
  assert.ok(err.cause instanceof ApplicationFailure);
  assert.equal(err.cause.type, 'DeployFailed');
  assert.equal(err.cause.message, '1 of 3 hosts failed: web2:22');
  const status = err.cause.details?.[0] as DeployStatus;
  assert.equal(status.hosts['web2:22']?.step, 'failed');
  assert.match(status.hosts['web2:22']?.error ?? '', /^upload: web2:22: host key does not match/);
  assert.deepEqual([status.hosts['web1:22']?.step, status.hosts['web3:22']?.step], ['done', 'done']);
  assert.equal(calls.filter((c) => c === 'upload web2:22').length, 1, 'a host key error is not retried');
  assert.ok(!calls.includes('unpack web2:22'));
});

test('no more than maxParallel hosts are deployed at once', async () => {
  const inFlight = { now: 0, max: 0 };
  await withWorker('wf-par', recordingActivities([], { delayMs: 50, inFlight }), () =>
    wf.client.workflow.execute('deployRelease', {
      taskQueue: 'wf-par', workflowId: 'wf-par', args: [request([1, 2, 3, 4, 5].map(host), { maxParallel: 2, startDeploy: false })],
    }),
  );
  assert.equal(inFlight.max, 2);
});

test('the status query shows each host while the deploy runs', async () => {
  const status = await withWorker('wf-query', recordingActivities([], { delayMs: 400 }), async () => {
    const handle = await wf.client.workflow.start('deployRelease', { taskQueue: 'wf-query', workflowId: 'wf-query', args: [request([host(1), host(2)])] });
    let seen: DeployStatus | undefined;
    for (let i = 0; i < 50 && !(seen && Object.values(seen.hosts).some((h) => h.step !== 'waiting')); i++) {
      await new Promise((r) => setTimeout(r, 100));
      seen = await handle.query<DeployStatus>('status');
    }
    await handle.result();
    return seen;
  });
  assert.equal(status?.phase, 'deploying');
  assert.ok(Object.values(status?.hosts ?? {}).some((h) => ['upload', 'unpack', 'configure', 'start', 'verify'].includes(h.step)));
});

test('input that does not validate fails at once with an InputError and runs no activity', async () => {
  const calls: string[] = [];
  const bad = { ...request([{ ...host(1), deployTo: '/opt/$(reboot)' }]), version: '1.0; reboot' };
  const err = await withWorker('wf-bad', recordingActivities(calls), () =>
    wf.client.workflow.execute('deployRelease', { taskQueue: 'wf-bad', workflowId: 'wf-bad', args: [bad] }),
  ).catch((e: unknown) => e);
  assert.ok(err instanceof WorkflowFailedError);
  assert.ok(err.cause instanceof ApplicationFailure);
  assert.equal(err.cause.type, 'InputError');
  assert.match(err.cause.message, /version: invalid version "1\.0; reboot": ";", " " are not allowed/);
  assert.match(err.cause.message, /hosts\.0\.deployTo: path: "\/opt\/\$\(reboot\)" must be an absolute path/);
  assert.deepEqual(calls, []);
});

test('a recorded deploy history replays on the current workflow code (determinism)', async () => {
  const history = JSON.parse(readFileSync(fixture, 'utf8'));
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'wf-ok');
});

const buildInput = (extra: object = {}) => ({
  app: 'hello', projectDir: '/home/ana/hello', ref: 'main', tool: 'rebar3', buildAt: '/b',
  buildHost: { name: 'build', address: 'build', port: 22, user: 'builder' },
  store: { kind: 's3', bucket: 'releases', prefix: 'hello' }, ...extra,
});

test('buildRelease --skip-existing returns the stored release of the same revision and builds nothing', async () => {
  const calls: string[] = [];
  const result = (await withWorker('wf-skip', recordingActivities(calls, { built: true }), () =>
    wf.client.workflow.execute('buildRelease', { taskQueue: 'wf-skip', workflowId: 'wf-skip', args: [buildInput({ skipExisting: true })] }),
  )) as { skipped?: boolean; release: { version: string } };
  assert.deepEqual(calls, ['find ffff']);
  assert.equal(result.skipped, true);
  assert.equal(result.release.version, '0.2.0');
});

test('buildRelease builds when the store has nothing from that revision, and never looks without --skip-existing', async () => {
  const calls: string[] = [];
  await withWorker('wf-noskip', recordingActivities(calls), async () => {
    await wf.client.workflow.execute('buildRelease', { taskQueue: 'wf-noskip', workflowId: 'wf-noskip-1', args: [buildInput({ skipExisting: true })] });
    await wf.client.workflow.execute('buildRelease', { taskQueue: 'wf-noskip', workflowId: 'wf-noskip-2', args: [buildInput()] });
  });
  assert.deepEqual(calls, ['find ffff', 'push', 'compile', 'fetch', 'push', 'compile', 'fetch']);
});
