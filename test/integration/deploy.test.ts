import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { loadDeliveryConfig } from '../../client/config-file';
import { buildRequest, deployRequest, nodeCommandRequest } from '../../client/requests';
import type { BuildResult, DeployStatus, NodeCommandResult } from '../../core/domain/requests';
import { exampleProject, loginCount, mismatchedKnownHosts, testConfig, testEnv } from '../support/env';
import { nodesUnderTest } from '../support/nodes';

const env = testEnv();
const t = nodesUnderTest(env, { taskQueue: 'it-deploy', hosts: ['prod1', 'prod2', 'prod3'] });
const { run, hostFile } = t;

test('builds 0.1.0 on the build host into the store with its sha256 in the manifest', async () => {
  const { release } = await run<BuildResult>('buildRelease', 'it-build-0.1.0', [buildRequest(t.config, { tag: '0.1.0' })]);
  assert.equal(release.version, '0.1.0');
  const tarball = readFileSync(release.storeKey);
  assert.equal(createHash('sha256').update(tarball).digest('hex'), release.sha256);
  assert.equal(release.size, tarball.length);
  assert.match(release.storeKey, /hello_0\.1\.0\.release\.tar\.gz$/);
  assert.match(release.gitRevision ?? '', /^[0-9a-f]{40}$/);
});

test('deploys 0.1.0 to three hosts with --start-deploy: every node answers and runs 0.1.0', async () => {
  const status = await run<DeployStatus>('deployRelease', 'it-deploy-0.1.0', [
    deployRequest(t.config, 'production', { version: '0.1.0', startDeploy: true }),
  ]);
  assert.equal(status.phase, 'done');
  assert.deepEqual(Object.values(status.hosts).map((h) => [h.step, h.version]), [['done', '0.1.0'], ['done', '0.1.0'], ['done', '0.1.0']]);
  for (const host of ['prod1', 'prod2', 'prod3']) {
    const onHost = readFileSync(hostFile(host, '/opt/ferry/hello/releases/0.1.0/hello.tar.gz'));
    assert.equal(createHash('sha256').update(onHost).digest('hex'), status.release!.sha256, `${host} has the stored tarball`);
    assert.match(readFileSync(hostFile(host, '/opt/ferry/hello/ferry/vm.args'), 'utf8'), new RegExp(`^-name hello_${env.port(host)}@127\\.0\\.0\\.1\\n`));
  }
  const versions = await run<NodeCommandResult>('nodeCommand', 'it-version', [nodeCommandRequest(t.config, 'production', 'version')]);
  assert.deepEqual(versions.hosts.map((h) => [h.ok, h.version]), [[true, '0.1.0'], [true, '0.1.0'], [true, '0.1.0']]);
});

test('deploying the same release again sends nothing and restarts nothing', async () => {
  const status = await run<DeployStatus>('deployRelease', 'it-deploy-0.1.0-again', [
    deployRequest(t.config, 'production', { version: '0.1.0', startDeploy: true }),
  ]);
  assert.deepEqual(Object.values(status.hosts).map((h) => [h.step, h.sent]), [['done', false], ['done', false], ['done', false]]);
});

test('a host whose key does not match known_hosts fails, receives nothing, and the others are reported', async () => {
  const knownHosts = mismatchedKnownHosts(env, 'other', 'prod1');
  const project = exampleProject(
    env,
    testConfig(env, `PRODUCTION_HOSTS="${env.host('prod1')} ${env.host('other')}"\nSSH_KNOWN_HOSTS="${knownHosts}"\n`),
  );
  const cfg = await loadDeliveryConfig({ cwd: project });
  const logins = loginCount(env, 'other');
  const err = await run('deployRelease', 'it-deploy-badkey', [deployRequest(cfg, 'production', { version: '0.1.0' })]).catch((e: unknown) => e);
  assert.ok(err instanceof WorkflowFailedError);
  assert.ok(err.cause instanceof ApplicationFailure);
  assert.equal(err.cause.type, 'DeployFailed');
  const status = err.cause.details?.[0] as DeployStatus;
  assert.equal(status.hosts[`${env.host('prod1')}`]?.step, 'done');
  const bad = status.hosts[`${env.host('other')}`]!;
  assert.equal(bad.step, 'failed');
  assert.match(bad.error ?? '', /host key does not match/);
  assert.equal(loginCount(env, 'other'), logins, 'no login on the host with the wrong key');
  assert.equal(existsSync(hostFile('other', '/opt/ferry/hello')), false);
});

test('a version that is not in the store fails before any host is touched', async () => {
  const logins = loginCount(env, 'prod1');
  await assert.rejects(run('deployRelease', 'it-deploy-missing', [deployRequest(t.config, 'production', { version: '9.9.9' })]), (e: unknown) => {
    assert.ok(e instanceof WorkflowFailedError);
    assert.match(String((e.cause?.cause as Error | undefined)?.message), /hello 9\.9\.9 is not in the release store .*\(it has (.*, )?0\.1\.0(, .*)?\)/);
    return true;
  });
  assert.equal(loginCount(env, 'prod1'), logins);
});

test('stop production stops all three nodes', async () => {
  const stopped = await run<NodeCommandResult>('nodeCommand', 'it-stop', [nodeCommandRequest(t.config, 'production', 'stop')]);
  assert.deepEqual(stopped.hosts.map((h) => [h.ok, h.running]), [[true, false], [true, false], [true, false]]);
  const err = await run('nodeCommand', 'it-ping-stopped', [nodeCommandRequest(t.config, 'production', 'ping')]).catch((e: unknown) => e);
  assert.ok(err instanceof WorkflowFailedError);
  assert.match(err.cause?.message ?? '', /ping failed on 3 of 3 hosts/);
  const report = (err.cause as ApplicationFailure).details?.[0] as NodeCommandResult;
  assert.deepEqual(report.hosts.map((h) => h.error), Array(3).fill(undefined).map((_, i) => `node hello_${env.port(`prod${i + 1}`)}@127.0.0.1 is not running`));
});
