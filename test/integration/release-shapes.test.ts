// The corpus of release shapes (scripts/example-umbrella-repo.sh): an umbrella release `tally` whose version is not its
// applications', with a dependency fetched from a git repository, `-sname` in its own vm.args and ERTS included.
// Through the `ferry` CLI and a `ferry worker`, on the real build host, store and three hosts: each release and
// upgrade of the chain is built once, 1.0.0 -> 2.0.0 -> 3.0.0 go hot (same OS pid, the total kept), 3.0.0 -> 4.0.0
// restructures the supervision tree and its plan says it needs a restart, and a code change without a vsn change is
// refused.
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { StoredRelease } from '../../core/domain/release';
import type { BuildResult } from '../../core/domain/requests';
import type { UpgradePlan } from '../../core/domain/upgrade-plan';
import { ferry as ferryIn, spawnWorker, stopWorker } from '../support/cli';
import { testEnv } from '../support/env';
import { nodesUnderTest } from '../support/nodes';

const env = testEnv();
const prod = ['prod1', 'prod2', 'prod3'];
const t = nodesUnderTest(env, {
  taskQueue: 'it-shapes',
  hosts: prod,
  deployTo: '/opt/ferry-tally',
  app: 'tally',
  repo: env.exampleUmbrellaRepo,
  // Nodes of the shared test machine need distinct names; the release's own vm.args says `-sname tally`.
  config: `APP="tally"\nBUILD_AT="/opt/ferry-build/tally"\nNODE_NAME='tally_{port}@127.0.0.1'\n`,
});
let worker: ChildProcess;
const pids: Record<string, string> = {};
const ferry = (...args: string[]) => ferryIn(t.config.projectDir, ...args);

before(() => {
  worker = spawnWorker();
});
after(async () => {
  if (worker) await stopWorker(worker);
});

/** `ferry build upgrade --from --to --json`: the stored upgrade's manifest. */
function buildUpgrade(from: string, to: string): StoredRelease {
  const r = ferry('--json', 'build', 'upgrade', `--from=${from}`, `--to=${to}`);
  assert.equal(r.code, 0, `${r.out}\n${r.err}`);
  return (JSON.parse(r.out) as BuildResult).release;
}

/** The relup inside a stored upgrade tarball, as release_handler will read it. */
const relupOf = (upgrade: StoredRelease) => execFileSync('tar', ['-xzOf', upgrade.storeKey, `releases/${upgrade.version}/relup`], { encoding: 'utf8' });

const changed = (plan: UpgradePlan | undefined) => plan?.apps.filter((a) => a.change !== 'unchanged');

/** `ferry deploy upgrade to production --version=V`, then every node: on V, the same OS pid, the total kept. */
async function deployUpgrade(version: string): Promise<void> {
  const r = ferry('deploy', 'upgrade', 'to', 'production', `--version=${version}`);
  assert.equal(r.code, 0, `${r.out}\n${r.err}`);
  for (const h of prod) {
    assert.equal(await t.pidOf(h), pids[h], `${h}: the OS pid never changes`);
    assert.equal((await t.releasesOn(h))[0]?.join(' '), `${version} permanent`, `${h}: runs ${version}`);
    assert.equal(await t.evalOn(h, 'tally_counter:total().'), '12345', `${h}: the total survived`);
  }
}

test('setup: tally 1.0.0 (tally_core 0.1.0, tally_report 0.1.0, numfmt 1.0.0) runs on three hosts, each with its total at 12345', async () => {
  const built = ferry('build', 'release', '--tag=1.0.0');
  assert.equal(built.code, 0, `${built.out}\n${built.err}`);
  const deployed = ferry('deploy', 'release', 'to', 'production', '--version=1.0.0', '--start-deploy');
  assert.equal(deployed.code, 0, `${deployed.out}\n${deployed.err}`);
  for (const h of prod) {
    assert.match(readFileSync(t.hostFile(h, '/opt/ferry-tally/tally/releases/1.0.0/vm.args'), 'utf8'), /^-sname tally$/m, `${h}: the release names its node with -sname`);
    assert.equal(await t.evalOn(h, 'node().'), `'tally_${env.port(h)}@127.0.0.1'`, `${h}: NODE_NAME names the node`);
    assert.ok(existsSync(t.hostFile(h, '/opt/ferry-tally/tally/erts-' + (await t.evalOn(h, 'erlang:system_info(version).')).replaceAll('"', ''))), `${h}: ERTS is in the release`);
    assert.equal(await t.evalOn(h, 'tally_counter:add(12345).'), '12345');
    assert.equal(await t.evalOn(h, 'binary_to_list(tally_report:summary()).'), '"Total: 12,345"');
    pids[h] = await t.pidOf(h);
  }
});

test('build upgrade 1.0.0 -> 2.0.0: an appup for each umbrella application and for the dependency, tally_audit added; the plan is hot', () => {
  const up = buildUpgrade('1.0.0', '2.0.0');
  assert.deepEqual([up.fromVersion, up.version], ['1.0.0', '2.0.0']);
  assert.deepEqual(up.appups?.map((a) => [a.app, a.source]), [['tally_core', 'generated'], ['numfmt', 'generated'], ['tally_report', 'generated']]);
  assert.deepEqual(changed(up.plan), [
    { app: 'tally_core', from: '0.1.0', to: '0.2.0', change: 'upgraded', appup: 'generated', instructions: '[{update,tally_counter,{advanced,[]}}]' },
    { app: 'numfmt', from: '1.0.0', to: '1.1.0', change: 'upgraded', appup: 'generated', instructions: '[{add_module,numfmt_si},{load_module,numfmt}]' },
    { app: 'tally_report', from: '0.1.0', to: '0.2.0', change: 'upgraded', appup: 'generated', instructions: '[{load_module,tally_report}]' },
    { app: 'tally_audit', to: '0.1.0', change: 'added' },
  ]);
  assert.deepEqual(up.plan?.risks, [], 'tally_counter state record changed, and its code_change/3 converts it');
  const relup = relupOf(up);
  assert.match(relup, /^\{"2\.0\.0",\s*\[\{"1\.0\.0",/m);
  for (const [app, vsn] of [['tally_core', '0.2.0'], ['numfmt', '1.1.0'], ['tally_report', '0.2.0'], ['tally_audit', '0.1.0']] as const) {
    assert.match(relup, new RegExp(`\\{load_object_code,\\{${app},"${vsn.replaceAll('.', '\\.')}",`), `the relup loads ${app} ${vsn}`);
  }
  assert.match(relup, /\{code_change,up,\[\{tally_counter,\[\]\}\]\}/);
  assert.match(relup, /\{apply,\{application,start,\[tally_audit,permanent\]\}\}/);
  for (const a of up.appups ?? []) assert.equal(readFileSync(`${up.storeKey}.${a.app}.appup`, 'utf8'), a.text, `the generated appup of ${a.app} is kept in the store`);
});

test('deploy upgrade 2.0.0: hot on every host; tally_counter converted its state, numfmt 1.1.0 and tally_audit run', async () => {
  await deployUpgrade('2.0.0');
  for (const h of prod) {
    assert.equal(await t.evalOn(h, 'tally_counter:adds().'), '0', `${h}: code_change/3 made the new record`);
    assert.equal(await t.evalOn(h, 'application:get_key(numfmt, vsn).'), '{ok, "1.1.0"}');
    assert.equal(await t.evalOn(h, 'is_pid(whereis(tally_audit)).'), 'true', `${h}: the added application was started`);
    assert.equal(await t.evalOn(h, 'binary_to_list(tally_report:summary()).'), '"Total: 12,345 (12.3k)"');
  }
});

test("build upgrade 2.0.0 -> 3.0.0: tally_report's own appup (apps/tally_report/ebin), tally_audit removed, a sys.config warning", () => {
  const up = buildUpgrade('2.0.0', '3.0.0');
  assert.deepEqual(up.appups?.map((a) => [a.app, a.source]), [['tally_report', 'application']]);
  assert.match(up.appups?.[0]?.text ?? '', /^%% tally_report's own appup/);
  assert.deepEqual(changed(up.plan), [
    { app: 'tally_report', from: '0.2.0', to: '0.3.0', change: 'upgraded', appup: 'application', instructions: '[{load_module,tally_report}]' },
    { app: 'tally_audit', from: '0.1.0', change: 'removed' },
  ]);
  assert.deepEqual(up.plan?.risks, [
    { kind: 'config', severity: 'warning', app: 'tally_report', message: 'tally_report: sys.config changes heading; release_handler calls tally_report_app:config_change/3 after the upgrade' },
  ]);
  assert.match(relupOf(up), /\{apply,\{application,stop,\[tally_audit\]\}\}/);
  const show = ferry('show', 'upgrade-plan', '--from=2.0.0', '--to=3.0.0');
  assert.equal(show.code, 0, show.err);
  assert.match(show.out, /^upgrade plan tally 2\.0\.0 -> 3\.0\.0: hot upgrade, 1 warning\n/);
  assert.match(show.out, /\ntally_report {2}0\.2\.0 {2}0\.3\.0 {2}upgraded {2}its own\ntally_audit {3}0\.1\.0 {2}- {6}removed\n/);
  assert.match(show.out, /\n {2}warning {2}config {6}tally_report: sys\.config changes heading; /);
  assert.deepEqual(JSON.parse(ferry('--json', 'show', 'upgrade-plan', '--from=2.0.0', '--to=3.0.0').out), up.plan);
  const appups = ferry('show', 'appups', '3.0.0');
  assert.match(appups.out, /^tally_report 0\.2\.0 -> 0\.3\.0 \(the application's own ebin\/tally_report\.appup\):\n%% tally_report's own appup/);
});

test('deploy upgrade 3.0.0: hot on every host; tally_audit stopped, the new sys.config heading in force', async () => {
  await deployUpgrade('3.0.0');
  for (const h of prod) {
    assert.equal(await t.evalOn(h, 'lists:keymember(tally_audit, 1, application:which_applications()).'), 'false', `${h}: the removed application is stopped`);
    assert.equal(await t.evalOn(h, 'binary_to_list(tally_report:summary()).'), '"Grand total: 12 345 (12.3k)"');
    assert.equal(await t.evalOn(h, 'tally_counter:adds().'), '0', `${h}: tally_counter was not touched by 3.0.0`);
  }
});

test('build upgrade 3.0.0 -> 4.0.0 (tally_counter moves under a new supervisor): the plan says it needs a restart', () => {
  const up = buildUpgrade('3.0.0', '4.0.0');
  assert.deepEqual(up.plan?.risks, [
    {
      kind: 'supervisor', severity: 'restart', app: 'tally_core', module: 'tally_counter_sup',
      message: 'child tally_counter moves from tally_core_sup to tally_counter_sup: its process would be stopped and a new one started, losing its state',
    },
  ]);
  const show = ferry('show', 'upgrade-plan', '--from=3.0.0', '--to=4.0.0');
  assert.equal(show.code, 0, show.err);
  assert.match(show.out, /^upgrade plan tally 3\.0\.0 -> 4\.0\.0: needs a restart \(1 risk\)\n/);
  assert.match(show.out, /\n {2}restart {2}supervisor {2}child tally_counter moves from tally_core_sup to tally_counter_sup: /);
  const wrong = ferry('show', 'upgrade-plan', '--from=2.0.0', '--to=4.0.0');
  assert.equal(wrong.code, 2);
  assert.match(wrong.err, /^ferry: the upgrade to 4\.0\.0 in .* is from 3\.0\.0, not 2\.0\.0: /);
});

test('deploy upgrade 4.0.0: --hot-only refuses and touches no node; by default each node restarts onto 4.0.0, saying why, tally_counter under its new supervisor', async () => {
  const refused = ferry('deploy', 'upgrade', 'to', 'production', '--version=4.0.0', '--hot-only');
  assert.notEqual(refused.code, 0, refused.out);
  assert.match(`${refused.out}${refused.err}`, /tally_counter moves from tally_core_sup to tally_counter_sup/);
  for (const h of prod) {
    assert.equal(await t.pidOf(h), pids[h], `${h}: --hot-only touched no node`);
    assert.equal((await t.releasesOn(h))[0]?.join(' '), '3.0.0 permanent', `${h}: still runs 3.0.0`);
  }
  const r = ferry('deploy', 'upgrade', 'to', 'production', '--version=4.0.0');
  assert.equal(r.code, 0, `${r.out}\n${r.err}`);
  assert.match(r.out, /rolling restart onto the new release/);
  assert.match(r.out, /tally_counter moves from tally_core_sup to tally_counter_sup/);
  for (const h of prod) {
    assert.notEqual(await t.pidOf(h), pids[h], `${h}: restarted, not hot-upgraded`);
    assert.equal(await t.evalOn(h, 'lists:keymember(tally_counter, 1, supervisor:which_children(tally_counter_sup)).'), 'true', `${h}: the new tree runs`);
  }
  const versions = ferry('version', 'production');
  assert.equal(versions.code, 0, versions.err);
  assert.equal((versions.out.match(/4\.0\.0/g) ?? []).length, prod.length, versions.out);
});

test("a 3.0.1 that changes tally_counter but not tally_core's vsn is refused before the relup, naming the application and the module", () => {
  const git = (...args: string[]) => execFileSync('git', ['-C', t.config.projectDir, '-c', 'user.name=Ferry', '-c', 'user.email=ferry@example.invalid', '-c', 'commit.gpgsign=false', ...args], { encoding: 'utf8' });
  git('checkout', '-q', '-B', 'same-vsn', '3.0.0');
  const file = join(t.config.projectDir, 'apps/tally_core/src/tally_counter.erl');
  writeFileSync(file, readFileSync(file, 'utf8').replace('gen_server:call(?MODULE, total).', 'gen_server:call(?MODULE, total, 10000).'));
  writeFileSync(join(t.config.projectDir, 'rebar.config'), readFileSync(join(t.config.projectDir, 'rebar.config'), 'utf8').replace('{tally, "3.0.0"}', '{tally, "3.0.1"}'));
  // Only these two files: the project's .deliver/config (the test's) stays as it is in the work tree.
  git('commit', '-q', '-m', 'tally 3.0.1: tally_counter changes, tally_core stays 0.2.0', '--', 'rebar.config', 'apps/tally_core/src/tally_counter.erl');
  git('checkout', '-q', 'main');
  const r = ferry('build', 'upgrade', '--from=3.0.0', '--to=same-vsn');
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /build failed: upgrade 3\.0\.0 -> 3\.0\.1 refused: the code of an application changed while its version did not, .*\n? {2}tally_core 0\.2\.0: tally_counter/s);
});
