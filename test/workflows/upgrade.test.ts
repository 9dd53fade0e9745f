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
import type { Preflight } from '../../core/domain/preflight';
import type { StoredRelease } from '../../core/domain/release';
import type { UpgradePlan } from '../../core/domain/upgrade-plan';
import type { BuildResult, BuildUpgradeRequest, DeployStatus, DeployUpgradeRequest } from '../../core/domain/requests';
import { workflowEnv, workflowBundle } from '../support/workflow-env';

const fixture = join(__dirname, 'fixtures', 'deploy-upgrade.history.json');
const buildFixture = join(__dirname, 'fixtures', 'build-upgrade.history.json');

const wf = workflowEnv();
const { withWorker } = wf;

const host = (n: number): HostTarget => ({
  name: `web${n}:22`, address: `web${n}`, port: 22, user: 'deploy', deployTo: '/opt/apps', nodeName: `hello@web${n}`,
});
const deployInput = (hosts: HostTarget[], extra: Partial<DeployUpgradeRequest> = {}): DeployUpgradeRequest => ({
  app: 'hello', environment: 'production', hosts, store: '/var/ferry/store', ...extra,
});
const upgrade: StoredRelease = {
  app: 'hello', version: '0.3.0', type: 'upgrade', fromVersion: '0.2.0', sha256: 'cd'.repeat(32), size: 10,
  storeKey: '/var/ferry/store/hello_0.3.0.upgrade.tar.gz', builtAt: '2026-01-01T00:00:00Z',
  appup: { app: 'hello', source: 'application', text: '{"0.3.0",[],[]}.' },
};

const plan: UpgradePlan = { from: '0.2.0', to: '0.3.0', erts: { from: '13.1.5', to: '13.1.5' }, apps: [{ app: 'hello', from: '0.2.0', to: '0.3.0', change: 'upgraded', appup: 'generated', instructions: '[]' }], risks: [] };

/** A node per host that the fake upgrade script moves between versions; `behaviour` makes one host misbehave. */
interface FakeNode {
  version: string;
  pid: number;
  /**
   * What `bin/hello upgrade` does to this node; `child-restart`: upgraded in place, but hello_sup restarted
   * hello_server (a new pid); `app-down`: upgraded in place, but the hello application stopped.
   */
  onUpgrade?: 'ok' | 'restart' | 'stay' | 'lost-session' | 'child-restart' | 'app-down';
  /** Set by the fake upgrade script: hello_server's pid, and whether the hello application stopped. */
  serverPid?: number;
  appDown?: boolean;
}

/** A plan from 0.2.0 to 0.3.0 with the given risks (the real one is computed on the build host). */
const planWith = (risks: UpgradePlan['risks']): UpgradePlan => ({
  from: '0.2.0', to: '0.3.0', erts: { from: '13.1.5', to: '13.1.5' }, risks,
  apps: [{ app: 'hello', from: '0.2.0', to: '0.3.0', change: 'upgraded', appup: 'generated' }, { app: 'sasl', from: '4.2', to: '4.2', change: 'unchanged' }],
});
const stateRisk: UpgradePlan['risks'][number] = { kind: 'state', severity: 'restart', app: 'hello', module: 'hello_server', message: 'hello_server: the state record changed and code_change/3 does not convert it' };

function fakeActivities(calls: string[], nodes: Record<string, FakeNode>, plan?: UpgradePlan): Activities {
  const id = (h: string): NodeState => ({ host: h, running: true, version: nodes[h]!.version, pid: nodes[h]!.pid });
  const stored = plan ? { ...upgrade, plan } : upgrade;
  const notUsed = async (): Promise<never> => {
    throw new Error('not used by the upgrade workflows');
  };
  return {
    lookupRelease: async (r) => (r.type === 'upgrade' && r.version === '0.3.0' ? stored : notUsed()),
    newestUpgrade: async () => stored,
    findRelease: notUsed,
    healthCommand: notUsed,
    healthEval: notUsed,
    notify: notUsed,
    probeHttp: notUsed,
    findBuiltRelease: notUsed,
    runMigration: async (t) => (calls.push(`migrate ${t.host.name} ${t.expression}`), { output: 'up 1', recorded: false }),
    migrationStatus: notUsed,
    pruneHostReleases: notUsed,
    readVersionAt: notUsed,
    makeRelup: notUsed,
    uploadRelease: async (t) => (calls.push(`upload ${t.host.name} ${t.release.version}`), { sent: true }),
    nodeIdentity: async (t) => (calls.push(`identity ${t.host.name}`), id(t.host.name)),
    awaitNodeIdentity: async (t) => id(t.host.name),
    upgradeNode: async (t) => {
      calls.push(`upgrade ${t.host.name} ${t.version}`);
      const n = nodes[t.host.name]!;
      if (n.onUpgrade === 'lost-session') {
        n.version = t.version;
        throw new Error('connection lost');
      }
      if (n.onUpgrade === 'restart') Object.assign(n, { version: t.version, pid: n.pid + 1 });
      else if (n.onUpgrade !== 'stay') n.version = t.version;
      if (n.onUpgrade === 'child-restart') n.serverPid = 120;
      if (n.onUpgrade === 'app-down') n.appDown = true;
      // A relx `upgrade` to a version it cannot find has printed the version list and exited 0.
      return { exitCode: 0, output: n.onUpgrade === 'stay' ? 'Release 0.3.0 not found\n[{"0.2.0",permanent}]' : 'Release 0.3.0 is marked permanent' };
    },
    downgradeNode: async (t) => (calls.push(`downgrade ${t.host.name} ${t.version}`), (nodes[t.host.name]!.version = t.version), { exitCode: 0, output: '' }),
    nodeSupervision: async (t) => {
      const n = nodes[t.host.name]!;
      return {
        release: n.version,
        expected: ['kernel', 'hello'],
        running: n.appDown ? ['kernel'] : ['kernel', 'hello'],
        children: { hello: { app: 'hello', pid: '<0.90.0>' }, 'hello_sup/hello_server': { app: 'hello', pid: `<0.${n.serverPid ?? 91}.0>` } },
        intended: { apps: [], children: [] },
      };
    },
    unpackRelease: async (t) => void calls.push(`unpack ${t.host.name} ${t.release.version}`),
    configureNode: async (t) => void calls.push(`configure ${t.host.name}`),
    clusterView: notUsed,
    startNode: async (t) => {
      const n = nodes[t.host.name]!;
      calls.push(`start ${t.host.name}${t.version === undefined ? ' (forced)' : ''}`);
      Object.assign(n, { version: upgrade.version, pid: n.pid + 10, serverPid: undefined, appDown: false });
      return { action: 'restarted' as const };
    },
    stopNode: notUsed,
    nodeState: notUsed,
    verifyRunning: notUsed,
    verifyNode: async (t) => ({ host: t.host.name, running: true, version: nodes[t.host.name]!.version }),
    resolveRevision: notUsed,
    pushSource: notUsed,
    compileRelease: notUsed,
    fetchRelease: notUsed,
    prepareBuild: notUsed,
    versionFacts: notUsed,
    runHook: notUsed,
  };
}


async function failedDeploy(taskQueue: string, activities: Activities, input: DeployUpgradeRequest): Promise<{ message: string; status: DeployStatus }> {
  const err = await withWorker(taskQueue, activities, () => wf.client.workflow.execute('deployUpgrade', { taskQueue, workflowId: taskQueue, args: [input] })).catch(
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError, String(err));
  assert.ok(err.cause instanceof ApplicationFailure);
  assert.equal(err.cause.type, 'DeployFailed');
  return { message: err.cause.message, status: err.cause.details?.[0] as DeployStatus };
}

test('upgrades every host on the from-version: check, upload, upgrade, verify; same pid, new version', async () => {
  const calls: string[] = [];
  const nodes = { 'web1:22': { version: '0.2.0', pid: 100 }, 'web2:22': { version: '0.2.0', pid: 200 } };
  const status = (await withWorker('wfu-ok', fakeActivities(calls, nodes), () =>
    wf.client.workflow.execute('deployUpgrade', { taskQueue: 'wfu-ok', workflowId: 'wfu-ok', args: [deployInput([host(1), host(2)])] }),
  )) as DeployStatus;
  assert.equal(status.phase, 'done');
  assert.equal(status.fromVersion, '0.2.0');
  assert.deepEqual(status.hosts['web1:22'], { host: 'web1:22', step: 'done', pid: 100, sent: true, version: '0.3.0' });
  assert.deepEqual(calls.filter((c) => c.includes('web1')), ['identity web1:22', 'upload web1:22 0.3.0', 'upgrade web1:22 0.3.0']);
  if (!existsSync(fixture)) writeFileSync(fixture, historyToJSON(await wf.client.workflow.getHandle('wfu-ok').fetchHistory()));
});

test('a host already on the target is skipped; a host on another version is refused untouched; the others are upgraded', async () => {
  const calls: string[] = [];
  const nodes = { 'web1:22': { version: '0.3.0', pid: 100 }, 'web2:22': { version: '0.1.0', pid: 200 }, 'web3:22': { version: '0.2.0', pid: 300 } };
  const { message, status } = await failedDeploy('wfu-mixed', fakeActivities(calls, nodes), deployInput([host(1), host(2), host(3)], { version: '0.3.0' }));
  assert.equal(message, '1 of 3 hosts failed: web2:22');
  assert.deepEqual(status.hosts['web1:22'], { host: 'web1:22', step: 'skipped', pid: 100, version: '0.3.0' });
  assert.equal(status.hosts['web2:22']?.step, 'failed');
  assert.equal(status.hosts['web2:22']?.error, 'check: runs 0.1.0, but the upgrade is from 0.2.0 to 0.3.0; not touched');
  assert.equal(status.hosts['web3:22']?.step, 'done');
  assert.deepEqual(calls.filter((c) => !c.startsWith('identity')), ['upload web3:22 0.3.0', 'upgrade web3:22 0.3.0']);
});

test('an upgrade that restarted the node (new OS pid) is downgraded to the from-version and reported (UPGRADE_FALLBACK=refuse)', async () => {
  const calls: string[] = [];
  const nodes: Record<string, FakeNode> = { 'web1:22': { version: '0.2.0', pid: 100, onUpgrade: 'restart' } };
  const { status } = await failedDeploy('wfu-restart', fakeActivities(calls, nodes), deployInput([host(1)], { upgradeFallback: 'refuse' }));
  assert.equal(
    status.hosts['web1:22']?.error,
    'downgrade: upgrade 0.2.0 -> 0.3.0 failed: the node restarted (OS pid 100 -> 101) instead of upgrading in place (upgrade script exited with 0: Release 0.3.0 is marked permanent); the node runs 0.2.0 again',
  );
  assert.deepEqual(calls.slice(-2), ['upgrade web1:22 0.3.0', 'downgrade web1:22 0.2.0']);
});

test('an upgrade script that exits 0 but leaves the node on the old version fails the host, with no downgrade needed (UPGRADE_FALLBACK=refuse)', async () => {
  const calls: string[] = [];
  const nodes: Record<string, FakeNode> = { 'web1:22': { version: '0.2.0', pid: 100, onUpgrade: 'stay' } };
  const { status } = await failedDeploy('wfu-stay', fakeActivities(calls, nodes), deployInput([host(1)], { upgradeFallback: 'refuse' }));
  assert.match(status.hosts['web1:22']?.error ?? '', /^downgrade: upgrade 0\.2\.0 -> 0\.3\.0 failed: the node runs 0\.2\.0, not 0\.3\.0 \(upgrade script exited with 0: \[\{"0\.2\.0",permanent\}\]\); the node runs 0\.2\.0 again$/);
  assert.ok(!calls.some((c) => c.startsWith('downgrade')));
});

test('an upgrade whose SSH session broke is judged by the node itself: upgraded in place means done', async () => {
  const calls: string[] = [];
  const nodes: Record<string, FakeNode> = { 'web1:22': { version: '0.2.0', pid: 100, onUpgrade: 'lost-session' } };
  const status = (await withWorker('wfu-lost', fakeActivities(calls, nodes), () =>
    wf.client.workflow.execute('deployUpgrade', { taskQueue: 'wfu-lost', workflowId: 'wfu-lost', args: [deployInput([host(1)])] }),
  )) as DeployStatus;
  assert.deepEqual(status.hosts['web1:22'], { host: 'web1:22', step: 'done', pid: 100, sent: true, version: '0.3.0' });
  assert.equal(calls.filter((c) => c.startsWith('upgrade')).length, 1, 'the upgrade script is never run twice');
});

test('a hot upgrade after which a supervisor restarted a child is downgraded (UPGRADE_FALLBACK=refuse) and the child is named', async () => {
  const calls: string[] = [];
  const nodes: Record<string, FakeNode> = { 'web1:22': { version: '0.2.0', pid: 100, onUpgrade: 'child-restart' } };
  const { status } = await failedDeploy('wfu-child', fakeActivities(calls, nodes), deployInput([host(1)], { upgradeFallback: 'refuse' }));
  assert.equal(
    status.hosts['web1:22']?.error,
    'downgrade: upgrade 0.2.0 -> 0.3.0 failed: hello_sup/hello_server (hello) restarted (pid <0.91.0> -> <0.120.0>) (upgrade script exited with 0: Release 0.3.0 is marked permanent); the node runs 0.2.0 again',
  );
  assert.deepEqual(calls.slice(-2), ['upgrade web1:22 0.3.0', 'downgrade web1:22 0.2.0']);
});

test('a hot upgrade that leaves an application stopped is restarted onto the new release (UPGRADE_FALLBACK=restart), saying what was seen', async () => {
  const calls: string[] = [];
  const nodes: Record<string, FakeNode> = { 'web1:22': { version: '0.2.0', pid: 100, onUpgrade: 'app-down' } };
  const status = (await withWorker('wfu-appdown', fakeActivities(calls, nodes), () =>
    wf.client.workflow.execute('deployUpgrade', { taskQueue: 'wfu-appdown', workflowId: 'wfu-appdown', args: [deployInput([host(1)])] }),
  )) as DeployStatus;
  const h = status.hosts['web1:22']!;
  assert.deepEqual([h.step, h.version, h.pid], ['done', '0.3.0', undefined]);
  assert.match(h.fallback ?? '', /^the hot upgrade 0\.2\.0 -> 0\.3\.0 failed its checks: application hello is not running \(upgrade script exited with 0: .*\); UPGRADE_FALLBACK=restart: the node is restarted onto 0\.3\.0$/);
  // The restart's upload finds the tarball the upgrade placed (the fake records the call all the same).
  assert.deepEqual(calls.slice(-5), ['upgrade web1:22 0.3.0', 'upload web1:22 0.3.0', 'unpack web1:22 0.3.0', 'configure web1:22', 'start web1:22 (forced)']);
  assert.ok(!calls.some((c) => c.startsWith('downgrade')));
});

/** Runs deployUpgrade with an upgrade whose manifest carries `plan`; returns the status (or the failure's) and the memo. */
async function deployWithPlan(name: string, calls: string[], nodes: Record<string, FakeNode>, plan: UpgradePlan | undefined, extra: Partial<DeployUpgradeRequest> = {}) {
  const input = deployInput(Object.keys(nodes).map((_, i) => host(i + 1)), extra);
  return withWorker(name, fakeActivities(calls, nodes, plan), async () => {
    const handle = await wf.client.workflow.start('deployUpgrade', { taskQueue: name, workflowId: name, args: [input] });
    const outcome = await handle.result().then(
      (status: DeployStatus) => ({ status, error: undefined }),
      (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, String(err));
        return { status: err.cause.details?.[0] as DeployStatus, error: err.cause };
      },
    );
    const memo = (await handle.describe()).memo as { preflight?: Omit<Preflight, 'plan'> };
    return { ...outcome, memo };
  });
}

test('preflight: a plan with only warnings goes hot and shows the plan in the status', async () => {
  const calls: string[] = [];
  const nodes: Record<string, FakeNode> = { 'web1:22': { version: '0.2.0', pid: 100 } };
  const plan = planWith([{ kind: 'config', severity: 'warning', app: 'hello', message: 'sys.config changed; hello has config_change/3' }]);
  const { status, memo } = await deployWithPlan('wfu-plan-hot', calls, nodes, plan);
  assert.deepEqual([status.preflight?.decision, status.preflight?.plan, status.hosts['web1:22']?.step], ['hot', plan, 'done']);
  assert.deepEqual(memo.preflight, { decision: 'hot', policy: 'restart' });
  assert.ok(calls.includes('upgrade web1:22 0.3.0'));
});

test('preflight: an upgrade without a plan says no preflight is available and goes hot as before', async () => {
  const calls: string[] = [];
  const { status, memo } = await deployWithPlan('wfu-plan-none', calls, { 'web1:22': { version: '0.2.0', pid: 100 } }, undefined, { upgradeFallback: 'refuse' });
  assert.equal(status.preflight?.decision, 'hot');
  assert.match(status.preflight?.reason ?? '', /^no preflight available: the manifest of hello 0\.3\.0 has no upgrade plan/);
  assert.equal(memo.preflight?.reason, status.preflight?.reason);
  assert.equal(status.hosts['web1:22']?.step, 'done');
});

test('preflight: a restart risk with UPGRADE_FALLBACK=restart restarts the hosts onto the new release one at a time, saying why', async () => {
  const calls: string[] = [];
  const nodes: Record<string, FakeNode> = { 'web1:22': { version: '0.2.0', pid: 100 }, 'web2:22': { version: '0.2.0', pid: 200 } };
  const { status, memo } = await deployWithPlan('wfu-plan-restart', calls, nodes, planWith([stateRisk]), { maxParallel: 10 });
  const reason = 'a hot upgrade 0.2.0 -> 0.3.0 is unsafe: state (hello): hello_server: the state record changed and code_change/3 does not convert it; UPGRADE_FALLBACK=restart: a rolling restart onto 0.3.0 instead';
  assert.deepEqual(status.preflight && [status.preflight.decision, status.preflight.reason], ['restart', reason]);
  assert.deepEqual(memo.preflight, { decision: 'restart', policy: 'restart', reason });
  assert.deepEqual(calls, [
    'upload web1:22 0.3.0', 'unpack web1:22 0.3.0', 'configure web1:22', 'start web1:22',
    'upload web2:22 0.3.0', 'unpack web2:22 0.3.0', 'configure web2:22', 'start web2:22',
  ], 'one host after the other, no hot upgrade');
  for (const h of ['web1:22', 'web2:22']) {
    assert.deepEqual([status.hosts[h]?.step, status.hosts[h]?.version, status.hosts[h]?.fallback], ['done', '0.3.0', 'restarted onto 0.3.0 instead of a hot upgrade (see the preflight)']);
  }
});

test('preflight: a restart risk with UPGRADE_FALLBACK=refuse or --hot-only fails before touching any node, naming the risk', async () => {
  const calls: string[] = [];
  // --hot-only reaches the workflow as upgradeFallback 'refuse', like UPGRADE_FALLBACK=refuse (client/requests.ts).
  const { status, error, memo } = await deployWithPlan('wfu-plan-refuse', calls, { 'web1:22': { version: '0.2.0', pid: 100 } }, planWith([stateRisk]), {
    upgradeFallback: 'refuse',
    migrations: { when: 'before', expression: 'hello:migrate().' },
  });
  assert.equal(error?.type, 'UpgradeRefused');
  assert.equal(
    error?.message,
    'a hot upgrade 0.2.0 -> 0.3.0 is unsafe: state (hello): hello_server: the state record changed and code_change/3 does not convert it; refused (UPGRADE_FALLBACK=refuse or --hot-only): no node was touched',
  );
  assert.deepEqual([status.phase, status.preflight?.decision, status.hosts['web1:22']?.step], ['failed', 'refuse', 'waiting']);
  assert.equal(memo.preflight?.decision, 'refuse');
  assert.deepEqual(calls, [], 'not even the migrations ran');
});

test('buildUpgrade refuses an upgrade to the same version before any remote work', async () => {
  const calls: string[] = [];
  const activities: Activities = {
    ...fakeActivities([], {}),
    resolveRevision: async ({ ref }) => (calls.push(`resolve ${ref}`), { revision: (ref === 'HEAD' ? 'a' : 'b').repeat(40) }),
    readVersionAt: async () => (calls.push('readVersionAt'), { version: '0.2.0' }),
    pushSource: async () => void calls.push('push'),
    compileRelease: async () => (calls.push('compile'), { version: '0.2.0', remoteTarball: '/b/x.tar.gz', output: { tail: '', length: 0 } }),
  };
  const input: BuildUpgradeRequest = {
    app: 'hello', projectDir: '/src/hello', ref: 'HEAD', from: '0.2.0', buildHost: { name: 'b', address: 'b', port: 22, user: 'u' },
    buildAt: '/b/hello', tool: 'rebar3', store: '/var/ferry/store',
  };
  const err = await withWorker('wfu-same', activities, () => wf.client.workflow.execute('buildUpgrade', { taskQueue: 'wfu-same', workflowId: 'wfu-same', args: [input] })).catch(
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError);
  assert.ok(err.cause instanceof ApplicationFailure);
  assert.equal(err.cause.type, 'InputError');
  assert.equal(err.cause.message, '--from=0.2.0 and HEAD both declare version 0.2.0: an upgrade needs two different versions');
  assert.deepEqual(calls, ['resolve HEAD', 'readVersionAt', 'resolve 0.2.0', 'readVersionAt']);
});

test('buildUpgrade from a git ref whose release the store lacks builds that release first (child buildRelease), then the relup, and stores the upgrade', async () => {
  const calls: string[] = [];
  const revisionOf = (ref: string) => (ref === 'HEAD' ? 'a' : 'b').repeat(40);
  const activities: Activities = {
    ...fakeActivities([], {}),
    resolveRevision: async ({ ref }) => ({ revision: ref.length === 40 ? ref : revisionOf(ref) }),
    readVersionAt: async ({ revision }) => ({ version: revision.startsWith('a') ? '0.3.0' : '0.2.0' }),
    findRelease: async (r) => (calls.push(`find ${r.version}`), null),
    findBuiltRelease: async () => undefined,
    pushSource: async (t) => void calls.push(`push ${t.revision.slice(0, 1)}`),
    compileRelease: async (t) => {
      const v = t.revision.startsWith('a') ? '0.3.0' : '0.2.0';
      calls.push(`compile ${v}${t.cleanReleaseDir ? ' clean' : ''}`);
      return { version: v, remoteTarball: `/b/hello-${v}.tar.gz`, output: { tail: '', length: 0 } };
    },
    makeRelup: async (t) => (
      calls.push(`relup ${t.from.version} -> ${t.version}`),
      { version: t.version, remoteTarball: '/b/hello-0.3.0.tar.gz', upgrade: { appups: [{ app: 'hello', source: 'generated' as const, text: '{"0.3.0",[],[]}.' }], plan }, output: { tail: 'relup', length: 5 } }
    ),
    fetchRelease: async (t) => {
      calls.push(`store ${t.version} ${t.upgrade ? `upgrade from ${t.upgrade.fromVersion}` : 'release'}`);
      return t.upgrade ? { ...upgrade, appups: t.upgrade.appups, plan: t.upgrade.plan } : { ...upgrade, version: t.version, type: 'release' as const, fromVersion: undefined, appup: undefined };
    },
  };
  const input: BuildUpgradeRequest = {
    app: 'hello', projectDir: '/src/hello', ref: 'HEAD', from: '0.2.0', buildHost: { name: 'b', address: 'b', port: 22, user: 'u' },
    buildAt: '/b/hello', tool: 'rebar3', store: '/var/ferry/store',
  };
  const result = (await withWorker('wfu-build', activities, () =>
    wf.client.workflow.execute('buildUpgrade', { taskQueue: 'wfu-build', workflowId: 'wfu-build', args: [input] }),
  )) as BuildResult;
  assert.deepEqual([result.release.type, result.release.version, result.release.fromVersion, result.release.appups?.[0]?.source], ['upgrade', '0.3.0', '0.2.0', 'generated']);
  assert.deepEqual(result.release.plan, plan, 'the plan the relup step computed is in the manifest');
  assert.deepEqual(result.output, { tail: 'relup', length: 5 });
  assert.deepEqual(calls, ['find 0.2.0', 'push b', 'compile 0.2.0', 'store 0.2.0 release', 'push a', 'compile 0.3.0 clean', 'relup 0.2.0 -> 0.3.0', 'store 0.3.0 upgrade from 0.2.0']);
  if (!existsSync(buildFixture)) writeFileSync(buildFixture, historyToJSON(await wf.client.workflow.getHandle('wfu-build').fetchHistory()));
});

test('a recorded buildUpgrade history (old release built by a child, then the relup) replays on the current workflow code', async () => {
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, JSON.parse(readFileSync(buildFixture, 'utf8')), 'wfu-build');
});

test('a recorded upgrade history replays on the current workflow code (determinism)', async () => {
  const history = JSON.parse(readFileSync(fixture, 'utf8'));
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'wfu-ok');
});
