import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import type { Activities, NodeState } from '../../activities';
import type { HostTarget } from '../../core/domain/host';
import type { StoredRelease } from '../../core/domain/release';
import type { UpgradePlan } from '../../core/domain/upgrade-plan';
import type { DeployStatus, UpgradeEnvironmentRequest } from '../../core/domain/requests';
import { workflowEnv, workflowBundle } from '../support/workflow-env';

/** Histories recorded once from 'wfe-ok' (re-recorded only when a fixture is deleted on purpose), replayed below. */
const fixtures = {
  'wfe-ok': join(__dirname, 'fixtures', 'upgrade-environment.history.json'),
  'wfe-ok/build': join(__dirname, 'fixtures', 'build-upgrade-with.history.json'),
  'wfe-ok/web1:22': join(__dirname, 'fixtures', 'host-upgrade.history.json'),
  'wfe-ok/web3:22': join(__dirname, 'fixtures', 'host-deploy-in-upgrade.history.json'),
};

const wf = workflowEnv();
const { withWorker } = wf;

const host = (n: number): HostTarget => ({
  name: `web${n}:22`, address: `web${n}`, port: 22, user: 'deploy', deployTo: '/opt/apps', nodeName: `hello@web${n}`,
});
const input = (hosts: HostTarget[]): UpgradeEnvironmentRequest => ({
  app: 'hello', projectDir: '/src/hello', ref: '0.3.0', buildHost: { name: 'b', address: 'b', port: 22, user: 'u' }, buildAt: '/b/hello',
  tool: 'rebar3', store: '/var/ferry/store', environment: 'production', hosts,
});
const release = (v: string, type: 'release' | 'upgrade', fromVersion?: string): StoredRelease => ({
  app: 'hello', version: v, type, fromVersion, sha256: 'cd'.repeat(32), size: 10, storeKey: `/var/ferry/store/hello_${v}.${type}.tar.gz`, builtAt: '2026-01-01T00:00:00Z',
});

/** Nodes by host name: `undefined` version means stopped. Records every step that changes something. */
function fakeActivities(calls: string[], nodes: Record<string, string | undefined>, plan?: UpgradePlan): Activities {
  const pid = (h: string) => 100 + Number(h.slice(3, 4));
  const state = (h: string): NodeState => (nodes[h] ? { host: h, running: true, version: nodes[h], pid: pid(h) } : { host: h, running: false });
  const notUsed = async (): Promise<never> => {
    throw new Error('not used by upgradeEnvironment');
  };
  return {
    nodeState: async (t) => state(t.host.name),
    nodeIdentity: async (t) => state(t.host.name),
    awaitNodeIdentity: async (t) => state(t.host.name),
    nodeSupervision: async (t) => ({ release: nodes[t.host.name] ?? '', expected: ['hello'], running: ['hello'], children: {}, intended: { apps: [], children: [] } }),
    findRelease: async (r) => (r.version === '0.2.0' ? release('0.2.0', 'release') : null),
    lookupRelease: async (r) => (calls.push(`lookup ${r.version}`), release(r.version, 'release')),
    newestUpgrade: notUsed,
    runMigration: async (t) => (calls.push(`migrate ${t.host.name} ${t.expression}`), { output: 'up 1', recorded: false }),
    migrationStatus: notUsed,
    findBuiltRelease: notUsed,
    pruneHostReleases: notUsed,
    resolveRevision: async ({ ref }) => ({ revision: (ref === '0.3.0' ? 'a' : 'b').repeat(40) }),
    readVersionAt: async ({ revision }) => ({ version: revision.startsWith('a') ? '0.3.0' : '0.2.0' }),
    pushSource: async () => undefined,
    compileRelease: async () => (calls.push('build 0.3.0'), { version: '0.3.0', remoteTarball: '/b/hello-0.3.0.tar.gz', output: { tail: '', length: 0 } }),
    makeRelup: async (t) => (calls.push(`relup from ${t.from.version}`), { version: '0.3.0', remoteTarball: '/b/hello-0.3.0.tar.gz', upgrade: { appups: [{ app: 'hello', source: 'generated' as const, text: '' }], plan: { from: '0.2.0', to: '0.3.0', erts: { from: '13.1.5', to: '13.1.5' }, apps: [], risks: [] } }, output: { tail: '', length: 0 } }),
    fetchRelease: async (t) => ({ ...release(t.version, 'upgrade', t.upgrade?.fromVersion), ...(plan ? { plan } : {}) }),
    prepareBuild: async () => { throw new Error('not used: no hooks or versioning here'); },
    versionFacts: async () => { throw new Error('not used: no hooks or versioning here'); },
    runHook: async () => { throw new Error('not used: no hooks here'); },
    uploadRelease: async (t) => (calls.push(`upload ${t.host.name} ${t.release.type}`), { sent: true }),
    upgradeNode: async (t) => (calls.push(`upgrade ${t.host.name}`), (nodes[t.host.name] = t.version), { exitCode: 0, output: '' }),
    downgradeNode: notUsed,
    healthCommand: notUsed,
    healthEval: notUsed,
    notify: notUsed,
    probeHttp: notUsed,
    unpackRelease: async (t) => void calls.push(`unpack ${t.host.name}`),
    configureNode: async () => undefined,
    clusterView: notUsed,
    startNode: async (t) => (calls.push(`start ${t.host.name}`), (nodes[t.host.name] = t.version), { action: 'started' as const }),
    stopNode: notUsed,
    verifyRunning: notUsed,
    verifyNode: async (t) => ({ host: t.host.name, running: true, version: nodes[t.host.name] }),
  };
}


test('builds the upgrade from the version the running nodes agree on, hot-upgrades them and deploys the stopped one', async () => {
  const calls: string[] = [];
  const nodes: Record<string, string | undefined> = { 'web1:22': '0.2.0', 'web2:22': '0.2.0', 'web3:22': undefined };
  const status = (await withWorker('wfe-ok', fakeActivities(calls, nodes), () =>
    wf.client.workflow.execute('upgradeEnvironment', { taskQueue: 'wfe-ok', workflowId: 'wfe-ok', args: [input([host(1), host(2), host(3)])] }),
  )) as DeployStatus;
  assert.equal(status.phase, 'done');
  assert.deepEqual([status.fromVersion, status.version], ['0.2.0', '0.3.0']);
  assert.deepEqual(Object.values(status.hosts).map((h) => [h.host, h.step, h.version]), [
    ['web1:22', 'done', '0.3.0'], ['web2:22', 'done', '0.3.0'], ['web3:22', 'done', '0.3.0'],
  ]);
  assert.deepEqual(calls.slice(0, 3), ['lookup 0.2.0', 'build 0.3.0', 'relup from 0.2.0'], 'the stored 0.2.0 is used (--with)');
  assert.deepEqual(calls.filter((c) => c.includes('web3')), ['upload web3:22 upgrade', 'unpack web3:22', 'start web3:22']);
  assert.deepEqual(calls.filter((c) => c.startsWith('upgrade')).sort(), ['upgrade web1:22', 'upgrade web2:22']);
  for (const [id, file] of Object.entries(fixtures)) {
    if (!existsSync(file)) writeFileSync(file, historyToJSON(await wf.client.workflow.getHandle(id).fetchHistory()));
  }
});

for (const [id, file] of Object.entries(fixtures)) {
  test(`a recorded history of ${id} replays on the current workflow code (determinism)`, async () => {
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, JSON.parse(readFileSync(file, 'utf8')), id);
  });
}

test('running nodes that disagree on the version fail the upgrade before anything is built or changed, naming them', async () => {
  const calls: string[] = [];
  const nodes: Record<string, string | undefined> = { 'web1:22': '0.2.0', 'web2:22': '0.1.0', 'web3:22': '0.2.0' };
  const err = await withWorker('wfe-disagree', fakeActivities(calls, nodes), () =>
    wf.client.workflow.execute('upgradeEnvironment', { taskQueue: 'wfe-disagree', workflowId: 'wfe-disagree', args: [input([host(1), host(2), host(3)])] }),
  ).catch((e: unknown) => e);
  assert.ok(err instanceof WorkflowFailedError);
  assert.ok(err.cause instanceof ApplicationFailure);
  assert.equal(err.cause.type, 'NodesDisagree');
  assert.equal(err.cause.message, 'the running nodes of production do not agree on a version: 0.2.0 on web1:22, web3:22; 0.1.0 on web2:22; nothing was changed');
  assert.deepEqual(calls, []);
});

/** A plan whose supervisor risk makes the hot upgrade unsafe (the real one is computed on the build host). */
const unsafe: UpgradePlan = {
  from: '0.2.0', to: '0.3.0', erts: { from: '13.1.5', to: '13.1.5' },
  apps: [{ app: 'hello', from: '0.2.0', to: '0.3.0', change: 'upgraded', appup: 'application' }],
  risks: [{ kind: 'supervisor', severity: 'restart', app: 'hello', message: 'hello_sup: child hello_worker moved from hello_sup to hello_pool_sup' }],
};

test('ferry upgrade: when the built upgrade is unsafe, UPGRADE_FALLBACK=restart restarts every node onto it, one at a time', async () => {
  const calls: string[] = [];
  const nodes: Record<string, string | undefined> = { 'web1:22': '0.2.0', 'web2:22': '0.2.0', 'web3:22': undefined };
  const status = (await withWorker('wfe-restart', fakeActivities(calls, nodes, unsafe), () =>
    wf.client.workflow.execute('upgradeEnvironment', { taskQueue: 'wfe-restart', workflowId: 'wfe-restart', args: [{ ...input([host(1), host(2), host(3)]), maxParallel: 5 }] }),
  )) as DeployStatus;
  assert.equal(status.preflight?.decision, 'restart');
  assert.match(status.preflight?.reason ?? '', /hello_worker moved from hello_sup to hello_pool_sup; UPGRADE_FALLBACK=restart: a rolling restart onto 0\.3\.0 instead$/);
  assert.deepEqual(calls.filter((c) => /^(upload|unpack|start|upgrade)/.test(c)), [
    'upload web1:22 upgrade', 'unpack web1:22', 'start web1:22',
    'upload web2:22 upgrade', 'unpack web2:22', 'start web2:22',
    'upload web3:22 upgrade', 'unpack web3:22', 'start web3:22',
  ]);
  assert.deepEqual(Object.values(status.hosts).map((h) => [h.step, h.version, h.fallback !== undefined]), [
    ['done', '0.3.0', true], ['done', '0.3.0', true], ['done', '0.3.0', false],
  ]);
});

test('ferry upgrade --hot-only: an unsafe upgrade is built, then refused before any node is touched', async () => {
  const calls: string[] = [];
  const nodes: Record<string, string | undefined> = { 'web1:22': '0.2.0', 'web2:22': '0.2.0' };
  const err = await withWorker('wfe-refuse', fakeActivities(calls, nodes, unsafe), () =>
    wf.client.workflow.execute('upgradeEnvironment', { taskQueue: 'wfe-refuse', workflowId: 'wfe-refuse', args: [{ ...input([host(1), host(2)]), upgradeFallback: 'refuse' }] }),
  ).catch((e: unknown) => e);
  assert.ok(err instanceof WorkflowFailedError);
  assert.ok(err.cause instanceof ApplicationFailure);
  assert.equal(err.cause.type, 'UpgradeRefused');
  assert.match(err.cause.message, /is unsafe: supervisor \(hello\): hello_sup: child hello_worker moved .*; refused \(UPGRADE_FALLBACK=refuse or --hot-only\): no node was touched$/);
  assert.deepEqual(calls.filter((c) => !c.startsWith('lookup') && !c.startsWith('build') && !c.startsWith('relup')), []);
});
