import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { buildRequest, deployRequest, deployUpgradeRequest, nodeCommandRequest, upgradeEnvironmentRequest } from '../../client/requests';
import * as node from '../../core/commands/node';
import type { BuildResult, BuildUpgradeRequest, DeployStatus } from '../../core/domain/requests';
import { testEnv } from '../support/env';
import { nodesUnderTest } from '../support/nodes';

const env = testEnv();
const prod = ['prod1', 'prod2', 'prod3'];
const all = [...prod, 'other'];
/** prod1..3 and other: other runs 0.1.0 while the prod hosts run 0.2.0. */
const t = nodesUnderTest(env, { taskQueue: 'it-upgrade', hosts: all });
const { run, evalOn, pidOf, hostFile, ensureRelease } = t;

const upgradeRequest = (to: string, extra: Partial<BuildUpgradeRequest>): BuildUpgradeRequest => ({ ...buildRequest(t.config, { tag: to }), ...extra });
const pids: Record<string, string> = {};

test('setup: prod hosts run 0.2.0 with their counter bumped to 3, other runs 0.1.0', async () => {
  await ensureRelease('0.1.0');
  await ensureRelease('0.2.0');
  const prodOnly = { ...deployRequest(t.config, 'production', { version: '0.2.0', startDeploy: true, host: prod.map((h) => `${env.host(h)}`) }) };
  await run<DeployStatus>('deployRelease', 'it-up-deploy-0.2.0', [prodOnly]);
  await run<DeployStatus>('deployRelease', 'it-up-deploy-0.1.0', [
    deployRequest(t.config, 'production', { version: '0.1.0', startDeploy: true, host: [`${env.host('other')}`] }),
  ]);
  for (const h of all) {
    for (let i = 0; i < 3; i++) await evalOn(h, 'hello_server:bump().');
    assert.equal(await evalOn(h, 'hello_server:count().'), '3');
    pids[h] = await pidOf(h);
    assert.match(pids[h]!, /^\d+$/);
  }
});

test('build upgrade 0.2.0 -> 0.3.0 uses the stored 0.2.0 and the app\'s own appup; the relup names 0.2.0', async () => {
  const { release } = await run<BuildResult>('buildUpgrade', 'it-up-build-0.3.0', [upgradeRequest('0.3.0', { from: '0.2.0' })]);
  assert.equal(release.type, 'upgrade');
  assert.equal(release.version, '0.3.0');
  assert.equal(release.fromVersion, '0.2.0');
  assert.deepEqual(release.appups?.map((a) => [a.app, a.source]), [['hello', 'application']]);
  assert.match(release.storeKey, /hello_0\.3\.0\.upgrade\.tar\.gz$/);
  assert.ok(existsSync(release.storeKey));
});

test('deploy upgrade: prod hosts run 0.3.0 with the same OS pid and the counter kept; other (on 0.1.0) is refused untouched', async () => {
  const err = await run('deployUpgrade', 'it-up-deploy-0.3.0', [deployUpgradeRequest(t.config, 'production', {})]).catch((e: unknown) => e);
  assert.ok(err instanceof WorkflowFailedError, String(err));
  assert.ok(err.cause instanceof ApplicationFailure);
  assert.equal(err.cause.message, `1 of 4 hosts failed: ${env.host('other')}`);
  const status = err.cause.details?.[0] as DeployStatus;
  assert.equal(status.version, '0.3.0');
  assert.equal(status.fromVersion, '0.2.0');
  assert.equal(status.hosts[`${env.host('other')}`]?.error, 'check: runs 0.1.0, but the upgrade is from 0.2.0 to 0.3.0; not touched');
  assert.equal(existsSync(hostFile('other', '/opt/ferry/hello/releases/0.3.0')), false, 'nothing was uploaded to other');
  for (const h of prod) {
    const p = status.hosts[`${env.host(h)}`]!;
    assert.deepEqual([p.step, p.version, String(p.pid)], ['done', '0.3.0', pids[h]]);
    assert.equal(await pidOf(h), pids[h], `${h}: same OS pid`);
    assert.equal(await evalOn(h, 'hello_server:count().'), '3', `${h}: the counter survived`);
    assert.equal(await evalOn(h, 'hello_server:upgrades().'), '1', `${h}: code_change ran once`);
    assert.equal(await evalOn(h, 'binary_to_list(hello:greeting()).'), '"Hello, hot-upgraded by Ferry 0.3!"');
    assert.equal(node.runningVersion(await evalOn(h, '[{V,S} || {_,V,_,S} <- release_handler:which_releases()].')), '0.3.0');
  }
  assert.equal(await evalOn('other', 'hello_server:count().'), '3');
});

test('deploying the same upgrade again skips every host already on 0.3.0', async () => {
  const status = await run<DeployStatus>('deployUpgrade', 'it-up-again', [
    deployUpgradeRequest(t.config, 'production', { version: '0.3.0', host: prod.map((h) => `${env.host(h)}`) }),
  ]);
  assert.deepEqual(Object.values(status.hosts).map((h) => h.step), ['skipped', 'skipped', 'skipped']);
});

/** Commits a test-only 0.3.1 on branch `broken` of the test's project: its code_change/3 crashes on 0.3.0's state. */
function commitBrokenVersion(dir: string): void {
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', dir, '-c', 'user.name=Ferry', '-c', 'user.email=ferry@example.invalid', '-c', 'commit.gpgsign=false', ...args], { encoding: 'utf8' });
  git('checkout', '-q', '-B', 'broken', '0.3.0');
  const edit = (file: string, from: string, to: string) => {
    const text = readFileSync(join(dir, file), 'utf8');
    assert.ok(text.includes(from), `${file} has ${from}`);
    writeFileSync(join(dir, file), text.replace(from, to));
  };
  edit('src/hello.app.src', '{vsn, "0.3.0"}', '{vsn, "0.3.1"}');
  edit('rebar.config', '{release, {hello, "0.3.0"}', '{release, {hello, "0.3.1"}');
  edit('src/hello_server.erl', '{ok, State#state{upgrades = U + 1}}.', 'erlang:error({deliberately_failing_code_change, State, U}).');
  writeFileSync(join(dir, 'ebin', 'hello.appup'), '{"0.3.1",\n [{"0.3.0", [{update, hello_server, {advanced, []}}]}],\n [{"0.3.0", [{update, hello_server, {advanced, []}}]}]}.\n');
  git('commit', '-q', '-a', '-m', 'hello 0.3.1 (test only: code_change crashes)');
  git('checkout', '-q', 'main');
}

test('an upgrade whose code_change crashes leaves every node on the previous version, with the same pid, and reports it', async () => {
  commitBrokenVersion(t.config.projectDir);
  const { release } = await run<BuildResult>('buildUpgrade', 'it-up-build-broken', [upgradeRequest('broken', { from: '0.3.0' })]);
  assert.deepEqual([release.version, release.fromVersion], ['0.3.1', '0.3.0']);
  const hosts = prod.map((h) => `${env.host(h)}`);
  const err = await run('deployUpgrade', 'it-up-deploy-broken', [deployUpgradeRequest(t.config, 'production', { version: '0.3.1', host: hosts, hotOnly: true })]).catch((e: unknown) => e);
  assert.ok(err instanceof WorkflowFailedError, String(err));
  assert.ok(err.cause instanceof ApplicationFailure);
  assert.equal(err.cause.message, `3 of 3 hosts failed: ${hosts.join(', ')}`);
  const status = err.cause.details?.[0] as DeployStatus;
  for (const h of prod) {
    assert.match(
      status.hosts[`${env.host(h)}`]?.error ?? '',
      /^downgrade: upgrade 0\.3\.0 -> 0\.3\.1 failed: the node runs 0\.3\.0, not 0\.3\.1 \(upgrade script exited with \d+.*\); the node runs 0\.3\.0 again$/s,
    );
    assert.equal(node.runningVersion(await evalOn(h, '[{V,S} || {_,V,_,S} <- release_handler:which_releases()].')), '0.3.0');
    assert.equal(await pidOf(h), pids[h], `${h}: the node restarted in place (same OS pid), on 0.3.0`);
  }
});

test('build upgrade 0.1.0 -> 0.2.0 without an appup generates one; other is hot-upgraded with it', async () => {
  const { release } = await run<BuildResult>('buildUpgrade', 'it-up-build-0.2.0', [upgradeRequest('0.2.0', { from: '0.1.0' })]);
  assert.equal(release.fromVersion, '0.1.0');
  assert.deepEqual(release.appups?.map((a) => [a.app, a.source]), [['hello', 'generated']]);
  assert.match(release.appups?.[0]?.text ?? '', /\{"0\.2\.0",\[\{"0\.1\.0",\[\{load_module,hello\}\]\}\],\[\{"0\.1\.0",\[\{load_module,hello\}\]\}\]\}\./);
  assert.equal(readFileSync(`${release.storeKey}.hello.appup`, 'utf8'), release.appups?.[0]?.text, 'the generated appup is kept beside the upgrade');
  const status = await run<DeployStatus>('deployUpgrade', 'it-up-deploy-0.2.0', [
    deployUpgradeRequest(t.config, 'production', { version: '0.2.0', host: [`${env.host('other')}`] }),
  ]);
  assert.equal(status.hosts[`${env.host('other')}`]?.step, 'done');
  assert.equal(await pidOf('other'), pids.other);
  assert.equal(await evalOn('other', 'hello_server:count().'), '3');
  assert.equal(await evalOn('other', 'binary_to_list(hello:greeting()).'), '"Hello again from Ferry 0.2!"');
});

test('an upgrade from a revision to the same revision is refused before any work', async () => {
  await assert.rejects(run('buildUpgrade', 'it-up-same', [upgradeRequest('0.3.0', { from: '0.3.0' })]), (e: unknown) => {
    assert.ok(e instanceof WorkflowFailedError);
    assert.ok(e.cause instanceof ApplicationFailure);
    assert.equal(e.cause.type, 'InputError');
    assert.equal(e.cause.message, '--from=0.3.0 and 0.3.0 are the same revision: an upgrade needs two different versions');
    return true;
  });
});

test('ferry upgrade (automatic): running nodes that disagree are named and nothing is built', async () => {
  const hosts = [`${env.host('prod1')}`, `${env.host('other')}`];
  const err = await run('upgradeEnvironment', 'it-up-auto-disagree', [upgradeEnvironmentRequest(t.config, 'production', { tag: '0.3.0', host: hosts })]).catch(
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError, String(err));
  assert.ok(err.cause instanceof ApplicationFailure);
  assert.equal(err.cause.type, 'NodesDisagree');
  assert.equal(err.cause.message, `the running nodes of production do not agree on a version: 0.3.0 on ${hosts[0]}; 0.2.0 on ${hosts[1]}; nothing was changed`);
});

test('ferry upgrade (automatic) with one node stopped: the running one is hot-upgraded, the stopped one gets the full release and starts', async () => {
  const stopped = `${env.host('prod3')}`;
  await run('nodeCommand', 'it-up-auto-stop', [nodeCommandRequest(t.config, 'production', 'stop', [stopped])]);
  const hosts = [`${env.host('other')}`, stopped];
  const status = await run<DeployStatus>('upgradeEnvironment', 'it-up-auto', [upgradeEnvironmentRequest(t.config, 'production', { tag: '0.3.0', host: hosts })]);
  assert.deepEqual([status.phase, status.fromVersion, status.version], ['done', '0.2.0', '0.3.0']);
  assert.deepEqual(hosts.map((h) => [status.hosts[h]?.step, status.hosts[h]?.version]), [['done', '0.3.0'], ['done', '0.3.0']]);
  assert.equal(await pidOf('other'), pids.other, 'other was upgraded in place');
  assert.equal(await evalOn('other', 'hello_server:count().'), '3');
  assert.equal(node.runningVersion(await evalOn('prod3', '[{V,S} || {_,V,_,S} <- release_handler:which_releases()].')), '0.3.0');
});
