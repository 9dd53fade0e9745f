import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { healthActivities } from '../../activities/health';
import { LocalStore } from '../../activities/store/local-store';
import { loadDeliveryConfig } from '../../client/config-file';
import { buildRequest, deployRequest, nodeCommandRequest, rolloutPlan } from '../../client/requests';
import * as node from '../../core/commands/node';
import type { DeliveryConfig } from '../../core/config/schema';
import { TASK_QUEUE, workflowIds } from '../../core/domain/constants';
import { releaseLayout } from '../../core/domain/host';
import type { RolloutFlags } from '../../client/requests';
import type { RolloutPlan, RolloutProgress, StagePlan } from '../../core/domain/plan';
import type { BuildResult, DeployStatus } from '../../core/domain/requests';
import { exampleProject, hostTarget, removeUpgrades, startWorker, testConfig, testEnv } from '../support/env';

/**
 * Rollouts on real hosts with the failure policies, the health command and HTTP probe, and hot-upgrade stages.
 * prod1, prod2, prod3 and other form production; every test starts from 0.1.0 on all four.
 */
const env = testEnv();
const root = join(__dirname, '..', '..');
const HOSTS = ['prod1', 'prod2', 'prod3', 'other'];
const ID = workflowIds.environment('hello', 'production');
const name = (h: string) => `${env.host(h)}`;
let w: Awaited<ReturnType<typeof startWorker>>;
let project: string;
let config: DeliveryConfig;
let http: Server;
/** The same endpoint on the other hosts' addresses: a probe of `{host}` reaches each host's own address. */
const mirrors: Server[] = [];
const probed: string[] = [];

before(async () => {
  removeUpgrades(env);
  // The `ferry` task queue: `ferry rollback` starts its rollout there, as on a real worker.
  w = await startWorker(env, TASK_QUEUE);
  project = exampleProject(env, testConfig(env, `PRODUCTION_HOSTS="${HOSTS.map(name).join(' ')}"\n`));
  config = await loadDeliveryConfig({ cwd: project });
  // A tiny health endpoint on each host's loopback address, one port: 200 on /health, 503 elsewhere.
  const endpoint = () =>
    createServer((req, res) => {
      probed.push(req.url ?? '');
      res.writeHead(req.url === '/health' ? 200 : 503).end();
    });
  http = endpoint();
  await new Promise<void>((r) => http.listen(0, env.addr(HOSTS[0]!), r));
  for (const h of HOSTS.slice(1)) {
    const m = endpoint();
    await new Promise<void>((r) => m.listen(httpPort(), env.addr(h), r));
    mirrors.push(m);
  }
});
after(async () => {
  try {
    if (config) await run('nodeCommand', 'it-ro-cleanup', [nodeCommandRequest(config, 'production', 'stop')]).catch(() => undefined);
  } finally {
    await w?.stop();
    http?.close();
    for (const m of mirrors) m.close();
  }
});

const run = <T>(type: string, id: string, args: unknown[]) => w.client.workflow.execute(type, { taskQueue: w.taskQueue, workflowId: id, args }) as Promise<T>;
const httpPort = () => (http.address() as AddressInfo).port;
const layout = releaseLayout('/opt/ferry', 'hello');
const versionOf = async (h: string) => node.runningVersion((await w.ssh.run(hostTarget(env, h), node.releases(layout))).stdout);
const versions = () => Promise.all(HOSTS.map(versionOf));
const pidOf = async (h: string) => (await w.ssh.run(hostTarget(env, h), node.osPid(layout))).stdout.trim();
/** The health command's marker: a host with `unhealthy` in its deploy root fails `test ! -e unhealthy`. */
const marker = (h: string) => join(env.hostRoot(h), 'ferry', 'hello', 'unhealthy');
const setUnhealthy = (h: string, on: boolean) => (on ? writeFileSync(marker(h), 'x') : rmSync(marker(h), { force: true }));

/** The plan `ferry rollout production` builds from these flags, started under the environment lock. */
function start(flags: Omit<RolloutFlags, 'version'> & { version: string }, stage: Partial<StagePlan> = {}) {
  const plan: RolloutPlan = rolloutPlan(config, ['production'], flags, 'tester');
  plan.stages[0] = { ...plan.stages[0]!, ...stage };
  return w.client.workflow.start('rollout', { taskQueue: w.taskQueue, workflowId: ID, args: [plan] });
}
async function until(ok: (p: RolloutProgress) => boolean, what: string): Promise<RolloutProgress> {
  const handle = w.client.workflow.getHandle(ID);
  for (let i = 0; i < 1500; i++) {
    const p = await handle.query<RolloutProgress>('progress');
    if (ok(p)) return p;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await handle.query('progress'))}`);
}
async function failure(p: Promise<unknown>) {
  const err = await p.catch((e: unknown) => e);
  assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, String(err));
  return { type: err.cause.type, message: err.cause.message, progress: err.cause.details?.[0] as RolloutProgress };
}
/** Runs the ferry CLI without blocking this process: the worker under test lives in it. */
async function ferry(...args: string[]) {
  try {
    const r = await promisify(execFile)(join(root, 'bin', 'ferry'), args, { cwd: project, encoding: 'utf8', timeout: 120_000 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: e.stdout ?? '', err: e.stderr ?? '' };
  }
}
async function onVersion(v: string, id: string) {
  // A rollout an earlier failed test left waiting would hold the environment lock.
  await w.client.workflow.getHandle(ID).terminate('test cleanup').catch(() => undefined);
  const store = new LocalStore((config.releaseStore as { dir: string }).dir);
  for (const tag of ['0.1.0', '0.2.0']) {
    if (!(await store.head({ app: 'hello', version: tag }))) await run<BuildResult>('buildRelease', `it-ro-build-${tag}`, [buildRequest(config, { tag })]);
  }
  await run<DeployStatus>('deployRelease', id, [deployRequest(config, 'production', { version: v, startDeploy: true })]);
  assert.deepEqual(await versions(), [v, v, v, v]);
}

test('the HTTP probe activity: the expected status passes, another status and a closed port fail with what was seen', async () => {
  const probe = healthActivities().probeHttp;
  const a = new MockActivityEnvironment();
  const host = hostTarget(env, 'prod1');
  assert.deepEqual(await a.run(probe, { host, url: `http://{host}:${httpPort()}/health`, expectStatus: 200, timeoutSeconds: 5 }), { host: host.name, status: 200 });
  await assert.rejects(a.run(probe, { host, url: `http://{host}:${httpPort()}/ready`, expectStatus: 200, timeoutSeconds: 5 }), {
    name: 'HealthCheckFailedError',
    message: `${host.name}: GET http://${host.address}:${httpPort()}/ready answered 503, expected 200`,
  });
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, host.address, r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  await assert.rejects(a.run(probe, { host, url: `http://{host}:${port}/health`, expectStatus: 200, timeoutSeconds: 5 }), (e: Error) => {
    assert.equal(e.name, 'HealthCheckFailedError');
    assert.equal(e.message, `${host.name}: GET http://${host.address}:${port}/health failed: connect ECONNREFUSED ${host.address}:${port}`);
    return true;
  });
});

test('a health command failing on one host: rollback-batch returns its batch to 0.1.0 and waits; ferry resume --rollback restores every touched host', async () => {
  await onVersion('0.1.0', 'it-ro-deploy-1');
  setUnhealthy('prod3', true);
  const url = `http://{host}:${httpPort()}/health`;
  probed.length = 0;
  const handle = await start(
    { version: '0.2.0', canary: 1, batch: '2', onFailure: 'rollback-batch', healthCommand: 'test ! -e unhealthy', healthUrl: url, healthRetries: 1, healthInterval: 1 },
  );
  const p = await until((x) => x.waiting?.kind === 'operator', 'the operator wait');
  assert.ok(p.waiting?.kind === 'operator');
  assert.deepEqual(p.waiting.hosts, [name('prod3')]);
  assert.match(p.waiting.error, /^health: .*health command `test ! -e unhealthy` exited with 1/);
  const h = p.stages[0]!.hosts;
  assert.deepEqual(HOSTS.map((x) => [h[name(x)]!.step, h[name(x)]!.outcome ?? null, h[name(x)]!.attempts]), [
    ['done', 'ok', 1],
    ['rolled-back', 'rolled-back', 1],
    ['rolled-back', 'failed', 1],
    ['waiting', null, 0],
  ]);
  assert.deepEqual(await versions(), ['0.2.0', '0.1.0', '0.1.0', '0.1.0']);
  assert.deepEqual(probed, ['/health', '/health'], 'prod1 and prod2 passed the HTTP probe; prod3 failed before it');

  const resume = await ferry('resume', 'production', '--rollback', '--by=ops');
  assert.equal(resume.code, 0, resume.out + resume.err);
  const { type, progress } = await failure(handle.result());
  assert.equal(type, 'RolloutRolledBack');
  assert.deepEqual(progress.decisions.map((d) => [d.action, d.by]), [['rollback', 'policy rollback-batch'], ['rollback', 'ops']]);
  assert.deepEqual(await versions(), ['0.1.0', '0.1.0', '0.1.0', '0.1.0']);
  assert.equal(progress.stages[0]!.hosts[name('other')]!.attempts, 0, 'the last batch was never touched');
  setUnhealthy('prod3', false);
});

test('a hot-upgrade stage 0.1.0 -> 0.2.0: rollback-stage downgrades every touched node in place; without a failure all upgrade in place', async () => {
  await onVersion('0.1.0', 'it-ro-deploy-2');
  const { release } = await run<BuildResult>('buildUpgrade', 'it-ro-build-up', [{ ...buildRequest(config, { tag: '0.2.0' }), from: '0.1.0' }]);
  assert.deepEqual([release.type, release.fromVersion], ['upgrade', '0.1.0']);
  const pids = await Promise.all(HOSTS.map(pidOf));

  setUnhealthy('other', true);
  const flags = { version: '0.2.0', upgrade: true, batch: '2', healthCommand: 'test ! -e unhealthy', healthRetries: 0 };
  const failed = await failure((await start({ ...flags, onFailure: 'rollback-stage', afterRollback: 'end' })).result());
  assert.equal(failed.type, 'RolloutRolledBack');
  assert.match(failed.message, new RegExp(`^production: ${name('other')} failed \\(health: .*\\); rollback-stage rolled back ${HOSTS.map(name).join(', ')}$`));
  assert.deepEqual(await versions(), ['0.1.0', '0.1.0', '0.1.0', '0.1.0']);
  assert.deepEqual(await Promise.all(HOSTS.map(pidOf)), pids, 'upgraded and downgraded in place: the same OS pids');

  setUnhealthy('other', false);
  const done = (await (await start(flags)).result()) as RolloutProgress;
  assert.equal(done.phase, 'done');
  assert.deepEqual(await versions(), ['0.2.0', '0.2.0', '0.2.0', '0.2.0']);
  assert.deepEqual(await Promise.all(HOSTS.map(pidOf)), pids, 'hot-upgraded: the same OS pids');
});

test('ferry rollback production after that hot upgrade: every node is downgraded in place to 0.1.0 (same OS pids)', async () => {
  assert.deepEqual(await versions(), ['0.2.0', '0.2.0', '0.2.0', '0.2.0'], 'the test before leaves every host hot-upgraded');
  const pids = await Promise.all(HOSTS.map(pidOf));
  const r = await ferry('rollback', 'production');
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /started ferry\/hello\/production \(rollback from 0\.2\.0 to 0\.1\.0 \(hot downgrade\) to production/);
  assert.deepEqual(await versions(), ['0.1.0', '0.1.0', '0.1.0', '0.1.0']);
  assert.deepEqual(await Promise.all(HOSTS.map(pidOf)), pids, 'downgraded in place: the same OS pids');
});

test('a bake on real hosts: its checks (the health command and an Erlang expression) pass until prod2 turns unhealthy; rollback-stage returns every host to 0.1.0', async () => {
  await onVersion('0.1.0', 'it-ro-deploy-3');
  const bake = { seconds: 600, intervalSeconds: 2, erlang: 'is_list(processes()).' };
  const handle = await start({ version: '0.2.0', onFailure: 'rollback-stage', afterRollback: 'end', healthCommand: 'test ! -e unhealthy', healthRetries: 0 }, { bake });
  await until((p) => p.waiting?.kind === 'bake' && (p.bakes?.[0]?.rounds ?? 0) >= 2, 'two rounds of bake checks');
  assert.deepEqual(await versions(), ['0.2.0', '0.2.0', '0.2.0', '0.2.0']);
  setUnhealthy('prod2', true);
  try {
    const { type, message, progress } = await failure(handle.result());
    assert.equal(type, 'RolloutRolledBack');
    assert.match(message, new RegExp(`^production: ${name('prod2')} failed \\(bake: .*health command \`test ! -e unhealthy\` exited with 1\\); rollback-stage rolled back`));
    const b = progress.bakes![0]!;
    assert.deepEqual([b.outcome, b.host], ['failed', name('prod2')]);
    assert.ok(b.rounds >= 2, `failed in round ${b.rounds}, after two rounds that passed began`);
    assert.deepEqual(await versions(), ['0.1.0', '0.1.0', '0.1.0', '0.1.0']);
  } finally {
    setUnhealthy('prod2', false);
  }
});
