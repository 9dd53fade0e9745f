import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { LocalStore } from '../../activities/store/local-store';
import { loadDeliveryConfig } from '../../client/config-file';
import {
  buildRequest,
  buildUpgradeRequest,
  deployRequest,
  deployUpgradeRequest,
  nodeCommandRequest,
  pruneRequest,
  rolloutPlan,
  upgradeEnvironmentRequest,
} from '../../client/requests';
import type { DeliveryConfig } from '../../core/config/schema';
import type { HostTarget } from '../../core/domain/host';
import type { StoredRelease } from '../../core/domain/release';
import type { BuildResult } from '../../core/domain/requests';
import { WORKFLOW_INPUTS } from '../../core/domain/workflow-inputs';
import * as workflows from '../../workflows';
import { exampleProject, loginCount, startWorker, testConfig, testEnv } from '../support/env';

/**
 * Every registered workflow type is a public entry point (`temporal workflow start --type ...`): each must refuse a
 * hostile input as a whole, with a non-retryable InputError, before any activity runs and so before any login.
 */
const env = testEnv();
const HOSTS = ['build', 'prod1', 'prod2', 'prod3', 'other'];
const logins = () => HOSTS.reduce((n, h) => n + loginCount(env, h), 0);
let w: Awaited<ReturnType<typeof startWorker>>;
let config: DeliveryConfig;
let release: StoredRelease;

/** A node name that ends one vm.args line and starts another: the node would run the command when it boots. */
const EVIL_NODE = `hello_1@127.0.0.1\n-eval os:cmd("touch /opt/pwned")`;
const evil = (h: HostTarget): HostTarget => ({ ...h, nodeName: EVIL_NODE });

before(async () => {
  w = await startWorker(env, 'it-inputs');
  config = await loadDeliveryConfig({ cwd: exampleProject(env, testConfig(env)) });
  // A real release in the store, so that an accepted hostDeploy input would really reach its host.
  const store = new LocalStore((config.releaseStore as { dir: string }).dir);
  const stored = await store.head({ app: 'hello', version: '0.1.0' });
  const build = () => w.client.workflow.execute('buildRelease', { taskQueue: w.taskQueue, workflowId: 'it-inputs-build', args: [buildRequest(config, { tag: '0.1.0' })] });
  release = stored ?? ((await build()) as BuildResult).release;
});

after(async () => {
  await w?.stop();
});

/** One hostile input for every exported workflow type; the compiler and the first test keep the list complete. */
function hostileInputs(): Record<keyof typeof workflows, unknown[]> {
  const deploy = deployRequest(config, 'production', { version: '0.1.0', startDeploy: true });
  const build = buildRequest(config, { tag: '0.1.0' });
  const host = evil(deploy.hosts[0]!);
  const hosts = [host, ...deploy.hosts.slice(1)];
  const onHost = { host, app: 'hello', release, store: config.releaseStore, ssh: deploy.ssh };
  const upgrade: StoredRelease = { ...release, version: '0.2.0', type: 'upgrade', fromVersion: '0.1.0' };
  const plan = rolloutPlan(config, ['production'], { version: '0.1.0' }, 'ana');
  return {
    buildRelease: [{ ...build, buildHost: { ...build.buildHost, address: '127.0.0.1\n-oProxyCommand=touch /opt/pwned' } }],
    deployRelease: [{ ...deploy, hosts }],
    hostDeploy: [{ ...onHost, startDeploy: true }],
    nodeCommand: [{ ...nodeCommandRequest(config, 'production', 'start'), hosts }],
    updateRelease: [{ ...build, environment: 'production', hosts, startDeploy: true, maxParallel: 10 }],
    pruneReleases: [{ ...pruneRequest(config, 'production', 2), hosts }],
    rollout: [{ ...plan, stages: [{ ...plan.stages[0]!, hosts }] }],
    buildUpgrade: [{ ...buildUpgradeRequest(config, { from: '0.1.0', to: '0.2.0' }), ref: '0.2.0\n--upload-pack=touch /opt/pwned' }],
    deployUpgrade: [{ ...deployUpgradeRequest(config, 'production', { version: '0.2.0' }), hosts }],
    hostUpgrade: [{ ...onHost, release: upgrade }],
    upgradeEnvironment: [{ ...upgradeEnvironmentRequest(config, 'production', {}), hosts }],
    migrate: [{ app: 'hello', environment: 'production', hosts, direction: 'status', expression: 'ok.', ssh: deploy.ssh }],
    freezeEnvironment: [{ app: 'hello', environment: 'production\n', by: 'ops', reason: 'incident' }],
  };
}

let n = 0;
/** Starts `type`, waits at most 30 s for it to close, and returns its failure (the test fails if it completes or sticks). */
async function refusal(type: string, args: unknown[], workflowId = `it-inputs-${type}-${++n}`): Promise<{ failure: ApplicationFailure; handle: WorkflowHandle }> {
  const handle = await w.client.workflow.start(type, { taskQueue: w.taskQueue, workflowId, args });
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<'stuck'>((resolve) => (timer = setTimeout(() => resolve('stuck'), 30_000)));
  const outcome = await Promise.race([handle.result().then(() => 'completed', (err: unknown) => err), stuck]).finally(() => clearTimeout(timer));
  if (outcome === 'stuck') await handle.terminate('stuck in a test');
  assert.ok(outcome instanceof WorkflowFailedError, `${type} closes with a failure, not ${String(outcome)}`);
  assert.ok(outcome.cause instanceof ApplicationFailure, `${type}: ${String(outcome.cause)}`);
  return { failure: outcome.cause, handle };
}

/** No activity was scheduled and no child started: the refusal came first. */
async function nothingRan(handle: WorkflowHandle): Promise<void> {
  const { events } = await handle.fetchHistory();
  const ran = (events ?? []).filter((e) => e.activityTaskScheduledEventAttributes || e.startChildWorkflowExecutionInitiatedEventAttributes);
  assert.deepEqual(ran, [], `${handle.workflowId} ran nothing before the refusal`);
}

test('every exported workflow type has a hostile case here, and an input schema the CLI checks too', () => {
  assert.deepEqual(Object.keys(hostileInputs()).sort(), Object.keys(workflows).sort());
  assert.deepEqual(Object.keys(WORKFLOW_INPUTS).sort(), Object.keys(workflows).sort());
});

for (const type of Object.keys(workflows)) {
  test(`${type} refuses a hostile input with a non-retryable InputError, before any activity or login`, async () => {
    const before = logins();
    const { failure, handle } = await refusal(type, hostileInputs()[type as keyof typeof workflows]);
    assert.equal(failure.type, 'InputError', failure.message);
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, new RegExp(`^invalid ${type} request: .*(node ?[nN]ame|host|ref|environment)`));
    await nothingRan(handle);
    assert.equal(logins(), before, 'no login on any host');
  });
}

test('hostDeploy started directly with a node name that holds a newline and -eval: refused, no line reaches vm.args', async () => {
  const host = deployRequest(config, 'production', { version: '0.1.0' }).hosts[0]!;
  const vmArgs = `${env.hostRoot('prod1')}/ferry/hello/ferry/vm.args`;
  const text = () => (existsSync(vmArgs) ? readFileSync(vmArgs, 'utf8') : undefined);
  const was = text();
  const before = logins();
  const { failure } = await refusal('hostDeploy', [{ host: evil(host), app: 'hello', release, store: config.releaseStore, startDeploy: true }]);
  assert.match(failure.message, /^invalid hostDeploy request: host\.nodeName: nodeName: invalid node name "hello_1@127\.0\.0\.1\\n-eval os:cmd/);
  assert.equal(text(), was, 'vm.args unchanged');
  assert.doesNotMatch(text() ?? '', /-eval/);
  assert.equal(existsSync(`${env.hostRoot('prod1')}/pwned`), false);
  assert.equal(logins(), before);
});

test('a host child given the release of another app, or a manifest with a path in its version, is refused', async () => {
  const host = deployRequest(config, 'production', { version: '0.1.0' }).hosts[0]!;
  const onHost = { host, app: 'hello', store: config.releaseStore, startDeploy: false };
  const other = await refusal('hostDeploy', [{ ...onHost, release: { ...release, app: 'other' } }]);
  assert.match(other.failure.message, /release\.app: is a release of another app/);
  const traversal = await refusal('hostDeploy', [{ ...onHost, release: { ...release, version: '../../../etc' } }]);
  assert.match(traversal.failure.message, /release\.version: /);
  await nothingRan(traversal.handle);
});

test('a 300,000-character host name fails the deploy at once instead of a workflow task that retries for ever', async () => {
  const deploy = deployRequest(config, 'production', { version: '0.1.0' });
  const long = 'a'.repeat(300_000);
  for (const patch of [{ address: long }, { name: long }]) {
    const { failure, handle } = await refusal('deployRelease', [{ ...deploy, hosts: [{ ...deploy.hosts[0]!, ...patch }] }]);
    assert.equal(failure.type, 'InputError');
    assert.ok(failure.message.length < 2000, `a short message (${failure.message.length} characters)`);
    await nothingRan(handle);
  }
});

test('a workflow id too long for its children is refused at the start', async () => {
  const deploy = deployRequest(config, 'production', { version: '0.1.0' });
  const { failure, handle } = await refusal('deployRelease', [deploy], `it-inputs-${'x'.repeat(990)}`);
  assert.equal(failure.type, 'InputError');
  assert.match(failure.message, /workflow id is 1000 characters long; start it under an id of at most 500/);
  await nothingRan(handle);
});

test('a rollout started with a second argument (its own continue-as-new state) is refused', async () => {
  const plan = rolloutPlan(config, ['production'], { version: '0.1.0' }, 'ana');
  const carry = { progress: { stages: [] }, at: { stage: 5, batch: 0 } };
  const { failure, handle } = await refusal('rollout', [plan, carry]);
  assert.equal(failure.type, 'InputError');
  assert.match(failure.message, /rollout takes one argument/);
  await nothingRan(handle);
});

test('hostile approve, reject, resume and pause payloads are refused; the waiting rollout keeps answering and ends when rejected', async () => {
  const plan = rolloutPlan(config, ['production'], { version: '0.1.0', approveBefore: true }, 'ana');
  const before = logins();
  const handle = await w.client.workflow.start('rollout', { taskQueue: w.taskQueue, workflowId: `it-inputs-signals-${++n}`, args: [plan] });
  const progress = () => handle.query<{ phase: string; refused: unknown[] }>('progress');
  for (let i = 0; (await progress()).phase !== 'waiting-for-approval'; i++) {
    assert.ok(i < 100, 'the rollout waits for an approval');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // An object whose toString is not a function throws when a template or String() meets it.
  const trap = { toString: 1 };
  const payloads = [{ by: trap }, { by: 'ana', comment: trap }, { by: 'a\nb' }, { by: 'x'.repeat(300) }, { by: 'ana', comment: 'c'.repeat(5000) }, null, 7, 'text'];
  for (const p of payloads) {
    for (const name of ['approve', 'reject']) {
      await handle.signal(name, p);
      await assert.rejects(handle.executeUpdate(name, { args: [p] }));
    }
    await handle.signal('resume', { action: 'retry', by: p, host: trap });
    await handle.signal('resume', { action: trap });
    await handle.signal('pause', { by: p });
  }
  const after = await progress();
  assert.equal(after.phase, 'waiting-for-approval');
  assert.ok(after.refused.length >= payloads.length * 2, `${after.refused.length} signals recorded as refused`);
  await handle.executeUpdate('reject', { args: [{ by: 'bob', comment: 'not today' }] });
  await assert.rejects(handle.result(), (err: unknown) => err instanceof WorkflowFailedError && (err.cause as ApplicationFailure).type === 'RolloutRejected');
  const { events } = await handle.fetchHistory();
  assert.deepEqual((events ?? []).filter((e) => e.workflowTaskFailedEventAttributes), [], 'no workflow task failed');
  assert.equal(logins(), before);
});
