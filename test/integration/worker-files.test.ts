import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { LocalStore } from '../../activities/store/local-store';
import { loadDeliveryConfig } from '../../client/config-file';
import { buildRequest, deployRequest } from '../../client/requests';
import type { DeliveryConfig } from '../../core/config/schema';
import type { DeployStatus } from '../../core/domain/requests';
import { exampleProject, loginCount, startWorker, testConfig, testEnv } from '../support/env';
import { project } from '../support/project';

/**
 * A request may name files on the worker machine (COOKIE_FILE, SSH files, a local store, the project) only under the
 * directories of the worker's FERRY_WORKER_FILES (the test state here): a file elsewhere, such as a secret of the
 * worker's own machine, is refused before anything reads it or logs in anywhere.
 */
const env = testEnv();
const HOSTS = ['build', 'prod1', 'prod2', 'prod3', 'other'];
const logins = () => HOSTS.reduce((n, h) => n + loginCount(env, h), 0);
const SECRET = 'worker_secret_token_4711';
let w: Awaited<ReturnType<typeof startWorker>>;
let config: DeliveryConfig;
let outside: string;

before(async () => {
  assert.ok(process.env.FERRY_WORKER_FILES, 'scripts/with-test-env.sh sets FERRY_WORKER_FILES');
  w = await startWorker(env, 'it-files');
  config = await loadDeliveryConfig({ cwd: exampleProject(env, testConfig(env, `PRODUCTION_HOSTS="${env.host('prod1')}"\n`)) });
  if (!(await new LocalStore((config.releaseStore as { dir: string }).dir).head({ app: 'hello', version: '0.1.0' }))) {
    await w.client.workflow.execute('buildRelease', { taskQueue: w.taskQueue, workflowId: 'it-files-build', args: [buildRequest(config, { tag: '0.1.0' })] });
  }
  // A one-line file that would pass for a cookie, outside every directory the worker allows.
  outside = project({ token: `${SECRET}\n`, 'id_ed25519': readFileSync(env.identity, 'utf8'), 'known_hosts': readFileSync(env.knownHosts, 'utf8') });
});

after(async () => {
  await w?.stop();
});

let n = 0;
/** Runs `type` and returns its failure's innermost message, or the per-host errors of a deploy report. */
async function failure(type: string, args: unknown[]): Promise<string> {
  const err = await w.client.workflow.execute(type, { taskQueue: w.taskQueue, workflowId: `it-files-${++n}`, args }).then(
    () => assert.fail(`${type} succeeded`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError);
  const report = err.cause instanceof ApplicationFailure ? (err.cause.details?.[0] as DeployStatus | undefined) : undefined;
  if (report?.hosts) return Object.values(report.hosts).map((h) => h.error ?? '').join('\n');
  let cause: unknown = err;
  while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
  return (cause as Error).message;
}

test('COOKIE_FILE outside FERRY_WORKER_FILES: refused before the upload, the file never reaches the host', async () => {
  const before = logins();
  const request = deployRequest(config, 'production', { version: '0.1.0', startDeploy: true });
  const message = await failure('deployRelease', [{ ...request, node: { cookieFile: join(outside, 'token') } }]);
  assert.match(message, new RegExp(`^upload: COOKIE_FILE ${join(outside, 'token')} is not in a directory this worker lets requests name \\(FERRY_WORKER_FILES: `));
  assert.equal(logins(), before, 'no login: the first step refused it');
  const cookie = join(env.hostRoot('prod1'), 'ferry', 'hello', 'ferry', 'cookie');
  assert.ok(!existsSync(cookie) || !readFileSync(cookie, 'utf8').includes(SECRET), 'the secret is not the host\'s cookie');
});

test('a system file as COOKIE_FILE is refused the same way', async () => {
  const request = deployRequest(config, 'production', { version: '0.1.0' });
  assert.match(await failure('deployRelease', [{ ...request, node: { cookieFile: '/etc/machine-id' } }]), /COOKIE_FILE \/etc\/machine-id is not in a directory this worker lets requests name/);
});

test('a link inside FERRY_WORKER_FILES that points outside it is judged by its target', async () => {
  const link = join(env.state, `token-link-${process.pid}`);
  writeFileSync(join(outside, 'token2'), `${SECRET}\n`);
  rmSync(link, { force: true });
  symlinkSync(join(outside, 'token2'), link);
  const request = deployRequest(config, 'production', { version: '0.1.0' });
  assert.match(await failure('deployRelease', [{ ...request, node: { cookieFile: link } }]), new RegExp(`COOKIE_FILE ${link} \\(${join(outside, 'token2')}\\) is not in`));
  rmSync(link);
});

test('SSH_IDENTITY_FILE and SSH_KNOWN_HOSTS outside FERRY_WORKER_FILES: refused before any login', async () => {
  const before = logins();
  const request = deployRequest(config, 'production', { version: '0.1.0' });
  for (const [ssh, what] of [
    [{ identityFile: join(outside, 'id_ed25519'), knownHostsFile: env.knownHosts }, 'SSH_IDENTITY_FILE'],
    [{ identityFile: env.identity, knownHostsFile: join(outside, 'known_hosts') }, 'SSH_KNOWN_HOSTS'],
  ] as const) {
    assert.match(await failure('deployRelease', [{ ...request, ssh }]), new RegExp(`${what} ${outside}/\\S+ is not in a directory this worker lets requests name`));
  }
  const host = { ...request.hosts[0]!, identityFile: join(outside, 'id_ed25519') };
  assert.match(await failure('deployRelease', [{ ...request, hosts: [host] }]), /SSH_IDENTITY_FILE .* is not in a directory/);
  assert.equal(logins(), before);
});

test('a project directory outside FERRY_WORKER_FILES: refused before git runs there or any login', async () => {
  const before = logins();
  assert.match(await failure('buildRelease', [{ ...buildRequest(config, { tag: '0.1.0' }), projectDir: outside }]), new RegExp(`^the project directory ${outside} is not in a directory`));
  assert.equal(logins(), before);
});

test('a local store outside FERRY_WORKER_FILES: refused where the store is used, nothing is written there', async () => {
  const request = deployRequest(config, 'production', { version: '0.1.0' });
  assert.match(await failure('deployRelease', [{ ...request, store: '/etc' }]), /^RELEASE_STORE \/etc is not in a directory/);
  const store = join(outside, 'store');
  assert.match(await failure('buildRelease', [{ ...buildRequest(config, { tag: '0.1.0' }), store: { kind: 'local', dir: store } }]), new RegExp(`RELEASE_STORE ${store} is not in a directory`));
  assert.equal(existsSync(store), false);
});
