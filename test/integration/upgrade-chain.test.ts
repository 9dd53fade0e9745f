// Acceptance: three real hosts go 0.1.0 -> 0.2.0 -> 0.3.0 -> 0.4.0 by hot upgrade, with Ferry's workflows and
// activities, and never restart: the counter and the OS pid survive every step.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { test } from 'node:test';
import { buildRequest, deployRequest, deployUpgradeRequest } from '../../client/requests';
import type { BuildResult, DeployStatus } from '../../core/domain/requests';
import { testEnv } from '../support/env';
import { nodesUnderTest } from '../support/nodes';

const env = testEnv();
const prod = ['prod1', 'prod2', 'prod3'];
const t = nodesUnderTest(env, { taskQueue: 'it-chain', hosts: prod, deployTo: '/opt/ferry-chain' });
const pids: Record<string, string> = {};
const installed: [string, string][] = [];

/** Where the MIGRATE_COMMAND below writes on the host it runs on: `<MIGRATE_WHEN> <the version the node runs>`. */
const MIGRATIONS_LOG = '/opt/ferry-chain/hello/migrations.log';
const migrateCommand = (when: string) =>
  `begin ok = file:write_file("${MIGRATIONS_LOG}", [<<"${when} ">>, hello:version(), <<"\\n">>], [append]), binary_to_list(hello:version()) end`;
/** Every host's migrations log, one line per run, in host order. */
const migrationRuns = () =>
  prod.flatMap((h) => {
    try {
      return readFileSync(t.hostFile(h, MIGRATIONS_LOG), 'utf8').trim().split('\n').map((line) => `${h}: ${line}`);
    } catch {
      return [];
    }
  });

test('setup: three hosts run 0.1.0, each with its counter bumped to 3', async () => {
  for (const h of prod) rmSync(t.hostFile(h, MIGRATIONS_LOG), { force: true });
  await t.ensureRelease('0.1.0');
  const status = await t.run<DeployStatus>('deployRelease', 'it-chain-deploy-0.1.0', [deployRequest(t.config, 'production', { version: '0.1.0', startDeploy: true })]);
  assert.equal(status.phase, 'done');
  for (const h of prod) {
    for (let i = 0; i < 3; i++) await t.evalOn(h, 'hello_server:bump().');
    assert.equal(await t.evalOn(h, 'hello_server:count().'), '3');
    pids[h] = await t.pidOf(h);
    assert.match(pids[h]!, /^\d+$/);
    assert.deepEqual(await t.releasesOn(h), [['0.1.0', 'permanent']]);
  }
  installed.push(['0.1.0', 'old']);
});

/**
 * Builds the upgrade from the version before, hot-upgrades every host, and checks what must survive. With `migrate`,
 * the deploy has `--run-migrations` and the config MIGRATE_WHEN=`migrate`.
 */
async function hotUpgrade(from: string, to: string, appupSource: 'application' | 'generated', migrate?: 'before' | 'after'): Promise<{ status: DeployStatus; appup: string }> {
  const { release } = await t.run<BuildResult>('buildUpgrade', `it-chain-build-${to}`, [{ ...buildRequest(t.config, { tag: to }), from }]);
  assert.deepEqual([release.type, release.fromVersion, release.version, release.appups?.map((a) => [a.app, a.source])], ['upgrade', from, to, [['hello', appupSource]]]);
  const config = migrate ? { ...t.config, migrations: { up: migrateCommand(migrate), when: migrate } } : t.config;
  const status = await t.run<DeployStatus>('deployUpgrade', `it-chain-deploy-${to}`, [
    deployUpgradeRequest(config, 'production', { version: to, runMigrations: migrate !== undefined }),
  ]);
  assert.equal(status.phase, 'done');
  for (const h of prod) {
    const p = status.hosts[t.addr(h)]!;
    assert.deepEqual([p.step, p.version, String(p.pid)], ['done', to, pids[h]], `${h}: reported done on ${to}, same pid`);
    assert.equal(await t.pidOf(h), pids[h], `${h}: the OS pid never changes`);
    assert.equal(await t.evalOn(h, 'hello_server:count().'), '3', `${h}: the counter survived ${from} -> ${to}`);
    assert.deepEqual(await t.releasesOn(h), [[to, 'permanent'], ...[...installed].reverse()], `${h}: which_releases shows the history`);
  }
  installed.push([to, 'old']);
  return { status, appup: release.appups?.[0]?.text ?? '' };
}

test('0.1.0 -> 0.2.0 with a generated appup (load_module hello)', async () => {
  await hotUpgrade('0.1.0', '0.2.0', 'generated');
  for (const h of prod) assert.equal(await t.evalOn(h, 'binary_to_list(hello:greeting()).'), '"Hello again from Ferry 0.2!"');
});

test("0.2.0 -> 0.3.0 with the app's own appup and --run-migrations (MIGRATE_WHEN=before): migrated once, on 0.2.0, then hello_server's state becomes a record", async () => {
  const { status } = await hotUpgrade('0.2.0', '0.3.0', 'application', 'before');
  for (const h of prod) assert.equal(await t.evalOn(h, 'hello_server:upgrades().'), '1');
  assert.deepEqual(migrationRuns(), ['prod1: before 0.2.0'], 'one run, on the first host, before its code changed');
  assert.equal(status.migration?.host, t.addr('prod1'));
  assert.equal(status.migration?.output.trim(), '"0.2.0"');
});

test('0.3.0 -> 0.4.0 with a generated appup and --run-migrations (MIGRATE_WHEN=after): the new supervised hello_ticker runs, then migrated once, on 0.4.0', async () => {
  for (const h of prod) assert.equal(await t.evalOn(h, 'whereis(hello_ticker).'), 'undefined', `${h}: no ticker before 0.4.0`);
  const { status, appup } = await hotUpgrade('0.3.0', '0.4.0', 'generated', 'after');
  assert.deepEqual(migrationRuns(), ['prod1: before 0.2.0', 'prod1: after 0.4.0'], 'one more run, after every host runs 0.4.0');
  assert.equal(status.migration?.output.trim(), '"0.4.0"');
  assert.match(appup, /\{add_module,hello_ticker,\[hello\]\},\s*\{load_module,hello\},\s*\{update,hello_sup,supervisor\},\s*\{apply,\{supervisor,restart_child,\[hello_sup,hello_ticker\]\}\}/);
  for (const h of prod) {
    assert.equal(await t.evalOn(h, 'is_pid(whereis(hello_ticker)).'), 'true', `${h}: hello_ticker is registered`);
    assert.match(await t.evalOn(h, 'hello_ticker:ticks().'), /^\d+$/, `${h}: only hello_ticker answers ticks()`);
    assert.equal(
      await t.evalOn(h, 'lists:sort([Id || {Id, P, _, _} <- supervisor:which_children(hello_sup), is_pid(P)]).'),
      '[hello_server, hello_ticker]',
      `${h}: hello_sup supervises both`,
    );
    assert.equal(await t.evalOn(h, 'hello_server:upgrades().'), '1', `${h}: hello_server was not touched by 0.4.0`);
    assert.equal(await t.evalOn(h, 'binary_to_list(hello:greeting()).'), '"Hello from Ferry 0.4, with a ticker!"');
  }
});
