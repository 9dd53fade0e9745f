import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { loadDeliveryConfig } from '../../client/config-file';
import { buildRequest, deployRequest } from '../../client/requests';
import type { DeliveryConfig } from '../../core/config/schema';
import type { BuildResult, DeployStatus } from '../../core/domain/requests';
import { exampleProject, startWorker, testConfig, testEnv } from '../support/env';

const env = testEnv();
let w: Awaited<ReturnType<typeof startWorker>>;
let config: DeliveryConfig;
let project: string;
const store = join(env.state, 'store-hooks');
/** Where the build hook writes, as the test runner sees the build host's /opt. */
const hookLog = join(env.hostRoot('build'), 'ferry-build', 'hook-runs.log');

// edeliver-style hooks: the build one writes on the build host through __sync_remote; the deploy one fails on prod2.
const hooks = `
BUILD_AT="/opt/ferry-build/hooks"
DELIVER_TO="/opt/ferry-hooks"
RELEASE_STORE="${store}"
pre_erlang_clean_compile() {
  status "recording the build"
  __sync_remote "echo \\"$APP $REVISION \${VERSION:-declared}\\" >> /opt/ferry-build/hook-runs.log"
}
post_extract_release_archive() {
  echo "checking $DELIVER_TO/$APP for $VERSION on $DEPLOY_HOST"
  if [ "$DEPLOY_HOST" = "${env.host('prod2')}" ]; then
    echo "disk check failed for $NODE_NAME" >&2
    exit 3
  fi
}
`;

before(async () => {
  w = await startWorker(env, 'it-hooks');
  project = exampleProject(env, testConfig(env, hooks));
  config = await loadDeliveryConfig({ cwd: project });
  execFileSync('rm', ['-f', hookLog]);
});
after(async () => {
  await w?.stop();
});

const run = <T>(type: string, id: string, args: unknown[]) =>
  w.client.workflow.execute(type, { taskQueue: w.taskQueue, workflowId: id, args }) as Promise<T>;
const git = (...args: string[]) => execFileSync('git', args, { cwd: project, encoding: 'utf8' }).trim();
const hookRuns = () => (existsSync(hookLog) ? readFileSync(hookLog, 'utf8').trim().split('\n') : []);

test('a pre_erlang_clean_compile hook writes a file on the build host, once per build', async () => {
  const { release } = await run<BuildResult>('buildRelease', 'it-hooks-build-0.1.0', [buildRequest(config, { tag: '0.1.0' })]);
  assert.equal(release.version, '0.1.0');
  assert.deepEqual(hookRuns(), [`hello ${git('rev-parse', '0.1.0^{commit}')} declared`]);
});

test('--increment-version=patch --auto-version=commit-count builds and stores 0.2.1+<commits>; the hook sees that VERSION', async () => {
  const commits = git('rev-list', '--all', '--count');
  const expected = `0.2.1+${commits}`;
  const { release } = await run<BuildResult>('buildRelease', 'it-hooks-build-0.2.0-versioned', [
    buildRequest(config, { tag: '0.2.0', incrementVersion: 'patch', autoVersion: 'commit-count' }),
  ]);
  assert.equal(release.version, expected);
  assert.equal(release.gitRevision, git('rev-parse', '0.2.0^{commit}'));
  const manifest = JSON.parse(readFileSync(join(store, `hello_${expected}.release.tar.gz.json`), 'utf8')) as { version: string };
  assert.equal(manifest.version, expected);
  // The tarball holds the release of that version: its releases/<vsn> directory.
  const listing = execFileSync('tar', ['-tzf', join(store, `hello_${expected}.release.tar.gz`)], { encoding: 'utf8' });
  assert.match(listing, new RegExp(`^releases/${expected.replace('+', '\\+')}/hello\\.rel$`, 'm'));
  // Your sources are not changed; the build host's checkout is.
  assert.equal(git('status', '--porcelain', '--', 'rebar.config', 'src'), '');
  assert.match(readFileSync(join(env.hostRoot('build'), 'ferry-build', 'hooks', 'rebar.config'), 'utf8'), new RegExp(`\\{release, \\{hello, "${expected.replace('+', '\\+')}"\\}`));
  assert.deepEqual(hookRuns().slice(1), [`hello ${git('rev-parse', '0.2.0^{commit}')} ${expected}`]);
});

test('a failing post_extract_release_archive hook fails that host with its output; the other hosts are deployed', async () => {
  const err = await run<DeployStatus>('deployRelease', 'it-hooks-deploy', [deployRequest(config, 'production', { version: '0.1.0' })]).catch((e: unknown) => e);
  assert.ok(err instanceof WorkflowFailedError, String(err));
  assert.ok(err.cause instanceof ApplicationFailure);
  const status = err.cause.details?.[0] as DeployStatus;
  const prod2 = `${env.host('prod2')}`;
  assert.deepEqual(
    Object.values(status.hosts).map((h) => [h.host, h.step]),
    [[`${env.host('prod1')}`, 'done'], [prod2, 'failed'], [`${env.host('prod3')}`, 'done']],
  );
  const error = status.hosts[prod2]!.error ?? '';
  assert.match(error, /hook post_extract_release_archive exited with 3/);
  assert.match(error, new RegExp(`checking /opt/ferry-hooks/hello for 0\\.1\\.0 on ${prod2.replace(/\./g, '\\.')}`));
  assert.match(error, new RegExp(`disk check failed for hello_${env.port('prod2')}@127\\.0\\.0\\.1`));
  // The hook ran after the extraction, on the host itself.
  assert.ok(existsSync(join(env.hostRoot('prod2'), 'ferry-hooks', 'hello', 'releases', '0.1.0', 'hello.rel')));
});
