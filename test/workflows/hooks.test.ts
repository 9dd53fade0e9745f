import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities, type Activities } from '../../activities';
import { HookFailedError } from '../../core/domain/errors';
import { HOOK_NAMES, type Hooks } from '../../core/domain/hooks';
import type { HostTarget } from '../../core/domain/host';
import type { DeployStatus, UpdateRequest } from '../../core/domain/requests';
import { workflowEnv } from '../support/workflow-env';

const wf = workflowEnv();

const host = (n: number): HostTarget => ({ name: `web${n}`, address: `web${n}`, port: 22, user: 'deploy', deployTo: '/opt/apps', nodeName: `hello@web${n}` });
/** Every hook, each a function of its name. */
const hooks: Hooks = Object.fromEntries(HOOK_NAMES.map((n) => [n, `${n} () \n{ \n    echo ${n}\n}`]));

/** Activities that record each step in order; every activity not listed here fails the test if called. */
function recording(calls: string[], failHook?: { name: string; host: string }): Activities {
  const notUsed = Object.fromEntries(
    Object.keys(createActivities({ ssh: {} as never, auth: {} as never, stores: {} as never, workerFiles: [] })).map((name) => [name, async () => assert.fail(`${name} is not used here`)]),
  ) as unknown as Activities;
  const release = { app: 'hello', version: '0.2.1+7', type: 'release' as const, sha256: 'ab'.repeat(32), size: 1, storeKey: '/s/hello_0.2.1+7.release.tar.gz', builtAt: '2026-01-01T00:00:00Z' };
  return {
    ...notUsed,
    resolveRevision: async () => (calls.push('resolve'), { revision: 'a'.repeat(40), branch: 'main' }),
    readVersionAt: async () => (calls.push('readVersionAt'), { version: '0.2.0' }),
    versionFacts: async () => (calls.push('versionFacts'), { revision: 'aaaaaaa', branch: 'main', commitCount: 7, commitCountBranch: 7, date: '20260101', time: '000000' }),
    pushSource: async () => void calls.push('push'),
    prepareBuild: async (t) => (calls.push(`prepare ${t.steps.join('+')}${t.setVersion ? ` ${t.setVersion.from}->${t.setVersion.to}` : ''}`), { output: { tail: '', length: 0 } }),
    compileRelease: async (t) => (calls.push(`release${t.prepared ? ' (prepared)' : ''}`), { version: '0.2.1+7', remoteTarball: '/b/x.tar.gz', output: { tail: '', length: 0 } }),
    fetchRelease: async () => (calls.push('fetch'), release),
    lookupRelease: async () => release,
    uploadRelease: async (t) => (calls.push(`upload ${t.host.name}`), { sent: true }),
    unpackRelease: async (t) => void calls.push(`unpack ${t.host.name}`),
    configureNode: async (t) => void calls.push(`configure ${t.host.name}`),
    startNode: async (t) => (calls.push(`start ${t.host.name}`), { action: 'started' as const }),
    verifyNode: async (t) => (calls.push(`verify ${t.host.name}`), { host: t.host.name, running: true, version: t.version }),
    runHook: async (t) => {
      calls.push(`hook ${t.name} ${t.host.name} VERSION=${t.vars.VERSION ?? '-'}`);
      if (failHook && t.name === failHook.name && t.host.name === failHook.host) throw new HookFailedError(t.host.name, t.name, 3, 'disk check failed');
      return { output: t.name };
    },
  };
}

const input = (extra: Partial<UpdateRequest> = {}): UpdateRequest => ({
  app: 'hello', projectDir: '/src/hello', ref: 'main', buildHost: { name: 'build', address: 'build', port: 22, user: 'builder' }, buildAt: '/b/hello',
  tool: 'rebar3', store: { kind: 'local', dir: '/s' }, environment: 'production', hosts: [host(1)], startDeploy: true, maxParallel: 1,
  hooks, versioning: { increment: 'patch', auto: ['commit-count'] }, ...extra,
});

test('update runs every hook once, at edeliver\'s points, on the build host or the target host, around its own step', async () => {
  const calls: string[] = [];
  const status = (await wf.withWorker('wf-hooks', recording(calls), () =>
    wf.client.workflow.execute('updateRelease', { taskQueue: 'wf-hooks', workflowId: 'wf-hooks', args: [input()] }),
  )) as DeployStatus;
  assert.equal(status.phase, 'done');
  assert.deepEqual(calls, [
    'hook pre_erlang_update build VERSION=-',
    'resolve',
    'push',
    'readVersionAt',
    'versionFacts',
    'prepare checkout 0.2.0->0.2.1+7',
    'hook pre_erlang_get_and_update_deps build VERSION=0.2.1+7',
    'prepare deps 0.2.0->0.2.1+7',
    'hook post_erlang_get_and_update_deps build VERSION=0.2.1+7',
    'hook pre_erlang_clean_compile build VERSION=0.2.1+7',
    'prepare compile 0.2.0->0.2.1+7',
    'hook post_erlang_clean_compile build VERSION=0.2.1+7',
    'hook pre_erlang_generate_release build VERSION=0.2.1+7',
    'release (prepared)',
    'hook post_erlang_generate_release build VERSION=0.2.1+7',
    'fetch',
    'upload web1',
    'hook pre_extract_release_archive web1 VERSION=0.2.1+7',
    'unpack web1',
    'hook post_extract_release_archive web1 VERSION=0.2.1+7',
    'configure web1',
    'hook pre_start_deployed_release web1 VERSION=0.2.1+7',
    'start web1',
    'hook post_start_deployed_release web1 VERSION=0.2.1+7',
    'verify web1',
    'hook post_erlang_update build VERSION=0.2.1+7',
  ]);
});

test('a failing deploy hook fails only its host, is not retried, and its output is in the report', async () => {
  const calls: string[] = [];
  const err = await wf
    .withWorker('wf-hooks-fail', recording(calls, { name: 'post_extract_release_archive', host: 'web2' }), () =>
      wf.client.workflow.execute('updateRelease', { taskQueue: 'wf-hooks-fail', workflowId: 'wf-hooks-fail', args: [input({ hosts: [host(1), host(2)], hooks: { post_extract_release_archive: hooks.post_extract_release_archive! }, versioning: undefined })] }),
    )
    .catch((e: unknown) => e);
  assert.ok(err instanceof WorkflowFailedError);
  const deploy = err.cause?.cause;
  assert.ok(deploy instanceof ApplicationFailure, String(err.cause));
  const status = deploy.details?.[0] as DeployStatus;
  assert.equal(status.hosts.web1!.step, 'done');
  assert.equal(status.hosts.web2!.step, 'failed');
  assert.match(status.hosts.web2!.error ?? '', /web2: hook post_extract_release_archive exited with 3:\ndisk check failed/);
  assert.equal(calls.filter((c) => c.startsWith('hook post_extract_release_archive web2')).length, 1);
  // Without build hooks or versioning flags a build is one step.
  assert.ok(calls.includes('release') && !calls.some((c) => c.startsWith('prepare')));
});
