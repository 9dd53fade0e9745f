import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { deployUpgradeRequest, migrateRequest, migrationsOf } from '../../../client/requests';
import * as migrate from '../../../core/commands/migrate';
import { toShell } from '../../../core/commands/shell';
import { parseDeliveryConfig, type ParseContext } from '../../../core/config/parse';
import type { DeliveryConfig } from '../../../core/config/schema';
import { InputError } from '../../../core/domain/errors';
import { releaseLayout } from '../../../core/domain/host';
import { elixirModule, fillVersion, migrationVersion, runKeyOf } from '../../../core/domain/migrations';

const made: string[] = [];
after(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const tempDir = (): string => {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'ferry-migrate-')));
  made.push(dir);
  return dir;
};

// --- domain ---

test('migration versions are whole numbers; anything else is refused before it can reach a host', () => {
  assert.equal(migrationVersion('3'), '3');
  assert.equal(migrationVersion('0'), '0');
  assert.equal(migrationVersion('007'), '7');
  assert.equal(migrationVersion('20240101120000'), '20240101120000');
  for (const bad of ['', '-1', '1.5', '1;halt()', '1)', 'x']) assert.throws(() => migrationVersion(bad), InputError);
});

test('{version} becomes the version, or nothing, so migrate({version}) calls migrate() or migrate(3)', () => {
  assert.equal(fillVersion('HelloMix.Release.migrate({version})', undefined, 'MIGRATE_COMMAND'), 'HelloMix.Release.migrate()');
  assert.equal(fillVersion('HelloMix.Release.migrate({version})', '3', 'MIGRATE_COMMAND'), 'HelloMix.Release.migrate(3)');
  assert.throws(() => fillVersion('my_release:migrate().', '3', 'MIGRATE_COMMAND'), /MIGRATE_COMMAND has no \{version\} placeholder/);
});

test('elixirModule and runKeyOf', () => {
  assert.equal(elixirModule('hello_mix'), 'HelloMix');
  assert.equal(elixirModule('app'), 'App');
  assert.equal(runKeyOf('ferry/hello/production/migrate', 'a1b2-c3'), 'ferry_hello_production_migrate@a1b2-c3');
});

// --- the host-side `once` script, through a real sh with a fake migration command ---

/** A release root and a fake command that appends to `ran` and prints `output` (after `sleep` seconds). */
function fakeHost() {
  const l = releaseLayout(tempDir(), 'hello');
  mkdirSync(l.root, { recursive: true });
  const ran = path.join(l.root, 'ran');
  const command = (output: string, sleep = 0, code = 0) => ['sh', '-c', `sleep ${sleep}; echo x >> "$1"; echo "$2"; exit ${code}`, 'fake', ran, output];
  const runs = () => (existsSync(ran) ? readFileSync(ran, 'utf8').split('\n').filter(Boolean).length : 0);
  return { l, command, runs };
}
const sh = (argv: readonly string[]) => spawnSync('sh', ['-c', toShell(argv)], { encoding: 'utf8' });

test('once runs the command, records its output, and a second call with the same key only prints the record', () => {
  const { l, command, runs } = fakeHost();
  const first = sh(migrate.once(l, 'wf@run-1', command('up 1')));
  assert.equal(first.status, 0);
  assert.deepEqual(migrate.parseOnce(first.stdout), { recorded: false, output: 'up 1\n' });
  const again = sh(migrate.once(l, 'wf@run-1', command('up 1')));
  assert.deepEqual(migrate.parseOnce(again.stdout), { recorded: true, output: 'up 1\n' });
  assert.equal(runs(), 1);
  assert.equal(readFileSync(path.join(migrate.migrationsDir(l), 'migrations', 'wf@run-1.done'), 'utf8'), 'up 1\n');
});

test('once leaves no record when the command fails or answers like a failed relx eval, so a retry runs it again', () => {
  const { l, command, runs } = fakeHost();
  const failed = sh(migrate.once(l, 'k', command('boom', 0, 3)));
  assert.equal(failed.status, 3);
  assert.match(failed.stdout, /boom/);
  const evalError = sh(migrate.once(l, 'k', command('{error, "*** eval: x"}')));
  assert.equal(evalError.status, 1);
  const ok = sh(migrate.once(l, 'k', command('fine')));
  assert.deepEqual(migrate.parseOnce(ok.stdout), { recorded: false, output: 'fine\n' });
  assert.equal(runs(), 3);
});

test('once refuses another key while the lock is held and names the holder', async () => {
  const { l, command, runs } = fakeHost();
  const holder = spawn('sh', ['-c', toShell(migrate.once(l, 'holder@1', command('slow', 2)))]);
  const owner = path.join(migrate.migrationsDir(l), 'migrate.owner');
  while (!existsSync(owner)) await new Promise((r) => setTimeout(r, 50));
  const other = sh(migrate.once(l, 'other@1', command('other')));
  assert.equal(other.status, migrate.LOCKED_EXIT);
  assert.match(other.stderr, /^migrations on this host are locked by holder@1 since \S+ \(pid \d+\)/);
  await new Promise((r) => holder.once('exit', r));
  assert.equal(runs(), 1);
});

test('the command builder quotes the expression as one argument of bin/<app> eval', () => {
  const l = releaseLayout('/opt/ferry', 'hello_mix');
  const argv = migrate.evaluate(l, 'HelloMix.Release.migrate(3)');
  assert.deepEqual(argv.slice(0, 2), ['timeout', '3600']);
  assert.deepEqual(argv.slice(-4), ['/opt/ferry/hello_mix', '/opt/ferry/hello_mix/bin/hello_mix', 'eval', 'HelloMix.Release.migrate(3)']);
  assert.match(toShell(migrate.once(l, 'k@1', argv)), / migrate-once \/opt\/ferry\/hello_mix\/ferry k@1 timeout 3600 /);
});

// --- config and requests ---

const ctx = (tool: 'rebar3' | 'mix'): ParseContext => ({ source: '.deliver/config', projectDir: '/home/ana/app', detectedTool: tool });
const base = { BUILD_HOST: 'build', BUILD_USER: 'b', BUILD_AT: '/b', PRODUCTION_HOSTS: 'web1 web2', PRODUCTION_USER: 'deploy', DELIVER_TO: '/opt/apps' };
function config(vars: Record<string, string>, tool: 'rebar3' | 'mix'): DeliveryConfig {
  const r = parseDeliveryConfig({ ...base, ...vars }, ctx(tool));
  if (!r.ok) assert.fail(r.errors.join('\n'));
  return r.config;
}

test('a mix app gets <App>.Release.migrate/rollback/status by default', () => {
  const c = config({ APP: 'hello_mix' }, 'mix');
  assert.deepEqual(c.migrations, {
    up: 'HelloMix.Release.migrate({version})',
    down: 'HelloMix.Release.rollback({version})',
    status: 'HelloMix.Release.status()',
    when: 'after',
  });
  const up = migrateRequest(c, 'production', 'up', {});
  assert.equal(up.expression, 'HelloMix.Release.migrate()');
  assert.deepEqual(up.hosts.map((h) => h.name), ['web1', 'web2']);
  assert.equal(migrateRequest(c, 'production', 'down', { version: '2' }).expression, 'HelloMix.Release.rollback(2)');
  assert.equal(migrateRequest(c, 'production', 'status', {}).expression, 'HelloMix.Release.status()');
  assert.deepEqual(migrationsOf(c, { runMigrations: true }), { migrations: { when: 'after', expression: 'HelloMix.Release.migrate()' } });
  assert.deepEqual(migrationsOf(c, {}), {});
});

test('a relx app needs MIGRATE_COMMAND; Ferry adds the final dot relx eval wants', () => {
  const none = config({ APP: 'hello' }, 'rebar3');
  assert.throws(() => migrateRequest(none, 'production', 'up', {}), /\.deliver\/config: MIGRATE_COMMAND is not set/);
  assert.throws(() => migrationsOf(none, { runMigrations: true }), /MIGRATE_COMMAND is not set/);
  const c = config({ APP: 'hello', MIGRATE_COMMAND: 'hello_release:migrate()', MIGRATE_WHEN: 'before' }, 'rebar3');
  assert.equal(migrateRequest(c, 'production', 'up', {}).expression, 'hello_release:migrate().');
  assert.deepEqual(migrationsOf(c, { runMigrations: true }), { migrations: { when: 'before', expression: 'hello_release:migrate().' } });
  assert.throws(() => migrateRequest(c, 'production', 'up', { version: '3' }), /MIGRATE_COMMAND has no \{version\} placeholder/);
});

test('down needs --version; status takes none; a bad version is refused', () => {
  const c = config({ APP: 'hello_mix' }, 'mix');
  assert.throws(() => migrateRequest(c, 'production', 'down', {}), /migrate down needs --version=N/);
  assert.throws(() => migrateRequest(c, 'production', 'status', { version: '1' }), /--version is for/);
  assert.throws(() => migrateRequest(c, 'production', 'up', { version: '1); System.halt(' }), /a migration version is a whole number/);
});

test('config errors: MIGRATE_DOWN_COMMAND without {version}, and an unknown MIGRATE_WHEN', () => {
  const r = parseDeliveryConfig({ ...base, APP: 'hello', MIGRATE_DOWN_COMMAND: 'r:rollback().', MIGRATE_WHEN: 'during' }, ctx('rebar3'));
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.match(r.errors.join('\n'), /MIGRATE_DOWN_COMMAND: has no \{version\} placeholder/);
  assert.match(r.errors.join('\n'), /MIGRATE_WHEN: "during" is not supported/);
});

test('deploy upgrade takes a mix app, with its migrations (mix releases are hot-upgraded through release_handler)', () => {
  const r = deployUpgradeRequest(config({ APP: 'hello_mix' }, 'mix'), 'production', { runMigrations: true });
  assert.equal(r.app, 'hello_mix');
  assert.equal(r.migrations?.expression, 'HelloMix.Release.migrate()');
});
