import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import { storeFactory, s3SettingsFromEnv } from '../../activities/store';
import { buildRequest, deployRequest, deployUpgradeRequest } from '../../client/requests';
import * as node from '../../core/commands/node';
import type { BuildResult, BuildUpgradeRequest, DeployStatus } from '../../core/domain/requests';
import { supervisionProblems, type NodeSupervision } from '../../core/domain/supervision';
import { hostTarget, testAuth, testEnv } from '../support/env';
import { nodesUnderTest } from '../support/nodes';

/** What hostUpgrade checks after a hot upgrade besides version and OS pid: applications and supervision trees. */
const env = testEnv();
const t = nodesUnderTest(env, { taskQueue: 'it-upgrade-verify', hosts: ['prod1', 'prod2'] });
const { run, evalOn, pidOf, addr } = t;

const supervisionOf = (host: string): Promise<NodeSupervision> => {
  const activities = createActivities({ ssh: t.w.ssh, auth: testAuth(env), stores: storeFactory({ ssh: t.w.ssh, s3: s3SettingsFromEnv(process.env) }), workerFiles: [env.state] });
  return new MockActivityEnvironment({ startToCloseTimeoutMs: 180_000 }).run(activities.nodeSupervision, {
    host: hostTarget(env, host),
    app: 'hello',
    ssh: { knownHostsFile: env.knownHosts, identityFile: env.identity },
  });
};
const runningVersion = async (host: string) => node.runningVersion(await evalOn(host, '[{V,S} || {_,V,_,S} <- release_handler:which_releases()].'));
const upgradeRequest = (to: string, extra: Partial<BuildUpgradeRequest>): BuildUpgradeRequest => ({ ...buildRequest(t.config, { tag: to }), ...extra });
const pids: Record<string, string> = {};

test('setup: prod1 and prod2 run 0.3.0 with their counter bumped to 2', async () => {
  await t.ensureRelease('0.3.0');
  await run<DeployStatus>('deployRelease', 'it-uv-deploy-0.3.0', [deployRequest(t.config, 'production', { version: '0.3.0', startDeploy: true })]);
  for (const h of ['prod1', 'prod2']) {
    await evalOn(h, 'hello_server:bump().');
    assert.equal(await evalOn(h, 'hello_server:bump().'), '2');
    pids[h] = await pidOf(h);
  }
});

test('nodeSupervision reads the release, its applications and its supervision trees from a real node; a stopped application and a restarted child are seen', async () => {
  const before = await supervisionOf('prod2');
  assert.equal(before.release, '0.3.0');
  assert.deepEqual(before.expected, ['kernel', 'stdlib', 'sasl', 'hello']);
  assert.deepEqual([...before.running].sort(), ['hello', 'kernel', 'sasl', 'stdlib']);
  assert.match(before.children.hello?.pid ?? '', /^<\d+\.\d+\.\d+>$/, 'the top supervisor of hello');
  assert.equal(before.children['hello_sup/hello_server']?.app, 'hello');
  assert.ok(before.children['kernel_sup/code_server'], 'the trees of every application of the release');
  assert.deepEqual(supervisionProblems(before, await supervisionOf('prod2')), [], 'nothing changed: no problem');

  assert.equal(await evalOn('prod2', 'application:stop(hello).'), 'ok');
  assert.deepEqual(supervisionProblems(before, await supervisionOf('prod2')), ['application hello is not running']);
  assert.equal(await evalOn('prod2', 'application:start(hello).'), 'ok');
  assert.equal(await evalOn('prod2', 'exit(whereis(hello_server), kill).'), 'true');
  await evalOn('prod2', 'hello_server:count().');
  const problems = supervisionProblems(before, await supervisionOf('prod2'));
  assert.ok(problems.some((p) => /^hello_sup\/hello_server \(hello\) restarted \(pid <[\d.]+> -> <[\d.]+>\)$/.test(p)), problems.join('\n'));
  assert.equal(await evalOn('prod2', 'hello_server:bump().'), '1', 'the restarted child lost its state');
  await evalOn('prod2', 'hello_server:bump().');
});

/**
 * Commits a test-only 0.3.2 on branch `forgetful` of the test's project. Its state record gains a field, and its
 * code_change/3 forgets to convert the old state; it asks for a tick, and the tick's handler crashes on the old state.
 * The release handler sees no error: the node runs 0.3.2 with the same OS pid, but hello_sup restarted hello_server
 * with a fresh state (its counter back to 0).
 */
function commitForgetfulVersion(dir: string): void {
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', dir, '-c', 'user.name=Ferry', '-c', 'user.email=ferry@example.invalid', '-c', 'commit.gpgsign=false', ...args], { encoding: 'utf8' });
  git('checkout', '-q', '-B', 'forgetful', '0.3.0');
  const edit = (file: string, from: string | RegExp, to: string) => {
    const text = readFileSync(join(dir, file), 'utf8');
    assert.ok(typeof from === 'string' ? text.includes(from) : from.test(text), `${file} has ${String(from)}`);
    writeFileSync(join(dir, file), text.replace(from, to));
  };
  edit('src/hello.app.src', '{vsn, "0.3.0"}', '{vsn, "0.3.2"}');
  edit('rebar.config', '{release, {hello, "0.3.0"}', '{release, {hello, "0.3.2"}');
  edit('src/hello_server.erl', 'upgrades = 0 :: non_neg_integer()}).', 'upgrades = 0 :: non_neg_integer(),\n                ticks = 0 :: non_neg_integer()}).');
  edit('src/hello_server.erl', 'handle_info(_Info, State) ->', 'handle_info(tick, State) ->\n    {noreply, State#state{ticks = State#state.ticks + 1}};\nhandle_info(_Info, State) ->');
  edit(
    'src/hello_server.erl',
    /code_change\(\{down, _OldVsn\}[\s\S]*$/,
    'code_change({down, _OldVsn}, {state, N, U, _Ticks}, _Extra) ->\n    {ok, {state, N, U}};\ncode_change(_OldVsn, State, _Extra) ->\n    self() ! tick,\n    {ok, State}.\n',
  );
  writeFileSync(join(dir, 'ebin', 'hello.appup'), '{"0.3.2",\n [{"0.3.0", [{update, hello_server, {advanced, []}}]}],\n [{"0.3.0", [{update, hello_server, {advanced, []}}]}]}.\n');
  git('commit', '-q', '-a', '-m', 'hello 0.3.2 (test only: code_change forgets to convert the state)');
  git('checkout', '-q', 'main');
}

test('a hot upgrade after which hello_sup restarted hello_server is caught although version and OS pid are right; --hot-only downgrades it', async () => {
  commitForgetfulVersion(t.config.projectDir);
  const { release } = await run<BuildResult>('buildUpgrade', 'it-uv-build-0.3.2', [upgradeRequest('forgetful', { from: '0.3.0' })]);
  assert.deepEqual([release.version, release.fromVersion], ['0.3.2', '0.3.0']);
  const err = await run('deployUpgrade', 'it-uv-hot-only', [deployUpgradeRequest(t.config, 'production', { version: '0.3.2', host: [addr('prod1')], hotOnly: true })]).catch(
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError, String(err));
  assert.ok(err.cause instanceof ApplicationFailure);
  const status = err.cause.details?.[0] as DeployStatus;
  assert.match(
    status.hosts[addr('prod1')]?.error ?? '',
    /^downgrade: upgrade 0\.3\.0 -> 0\.3\.2 failed: hello_sup\/hello_server \(hello\) restarted \(pid <[\d.]+> -> <[\d.]+>\) \(upgrade script exited with 0.*\); the node runs 0\.3\.0 again$/s,
  );
  assert.equal(await runningVersion('prod1'), '0.3.0');
  assert.equal(await pidOf('prod1'), pids.prod1, 'the node was never restarted');
});

test('the same upgrade with UPGRADE_FALLBACK=restart (the default) ends with the node restarted onto 0.3.2, saying what was seen', async () => {
  const status = await run<DeployStatus>('deployUpgrade', 'it-uv-restart', [deployUpgradeRequest(t.config, 'production', { version: '0.3.2', host: [addr('prod2')] })]);
  const h = status.hosts[addr('prod2')]!;
  assert.deepEqual([h.step, h.version], ['done', '0.3.2']);
  assert.match(h.fallback ?? '', /^the hot upgrade 0\.3\.0 -> 0\.3\.2 failed its checks: hello_sup\/hello_server \(hello\) restarted .*; UPGRADE_FALLBACK=restart: the node is restarted onto 0\.3\.2$/s);
  assert.equal(await runningVersion('prod2'), '0.3.2');
  assert.notEqual(await pidOf('prod2'), pids.prod2, 'a new OS process');
  assert.equal(await evalOn('prod2', 'hello_server:bump().'), '1');
});

test('a hot upgrade that adds a supervised child (0.3.0 -> 0.4.0) passes the checks: a new child is not a restart', async () => {
  await run<BuildResult>('buildUpgrade', 'it-uv-build-0.4.0', [upgradeRequest('0.4.0', { from: '0.3.0' })]);
  // The failed upgrade above lost hello_server's state on prod1 (hello_sup restarted it): count from here.
  const count = await evalOn('prod1', 'hello_server:bump().');
  const status = await run<DeployStatus>('deployUpgrade', 'it-uv-0.4.0', [deployUpgradeRequest(t.config, 'production', { version: '0.4.0', host: [addr('prod1')], hotOnly: true })]);
  assert.deepEqual([status.hosts[addr('prod1')]?.step, status.hosts[addr('prod1')]?.fallback], ['done', undefined]);
  assert.equal(await pidOf('prod1'), pids.prod1);
  assert.equal(await evalOn('prod1', 'hello_server:count().'), count, 'the state survived');
  assert.match((await supervisionOf('prod1')).children['hello_sup/hello_ticker']?.pid ?? '', /^<[\d.]+>$/);
});
