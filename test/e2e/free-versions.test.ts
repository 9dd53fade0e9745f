// Free-form versions, as a user meets them: a private copy of the example repository whose releases are "1", "2" and
// "2.1" (the application's vsn equal to the release's), built by `ferry` on the build host into the store, listed in
// version order, deployed, and hot-upgraded 1 -> 2 -> 2.1 with every node's OS pid and hello_server's state kept. Then
// the versioning flags on such versions and on an umbrella layout, and bad versions refused before any SSH login.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SshPool } from '../../activities/ssh/ssh-pool';
import { loadDeliveryConfig } from '../../client/config-file';
import { buildRequest, buildUpgradeRequest, deployRequest, deployUpgradeRequest } from '../../client/requests';
import * as node from '../../core/commands/node';
import { releaseLayout } from '../../core/domain/host';
import type { NodeCommandResult } from '../../core/domain/requests';
import type { StoredRelease } from '../../core/domain/release';
import { ferry, root, spawnWorker, stopWorker, temporal } from '../support/cli';
import { exampleProject, hostTarget, loginCount, testAuth, testConfig, testEnv } from '../support/env';

const env = testEnv();
const PROD = ['prod1', 'prod2', 'prod3'];
const HOSTS = ['build', ...PROD, 'other'];
const DELIVER_TO = '/opt/ferry-free';
const store = join(env.state, 'store-free');
const layout = releaseLayout(DELIVER_TO, 'hello');
const addr = (h: string) => `${env.host(h)}`;
let project: string;
let worker: ChildProcess;
let ssh: SshPool;
const pids: Record<string, string> = {};

/** A config of its own: build directory, deploy root, store and node names no other test uses. */
const config = (name: string, storeDir: string) =>
  testConfig(env, `BUILD_AT="/opt/ferry-build/${name}"\nDELIVER_TO="${DELIVER_TO}"\nRELEASE_STORE="${storeDir}"\nNODE_NAME='free_{port}@127.0.0.1'\n`);

/** Replaces `from` by `to` in one file of `dir`; fails when `from` is not there. */
function edit(dir: string, file: string, from: string, to: string): void {
  const text = readFileSync(join(dir, file), 'utf8');
  assert.ok(text.includes(from), `${file} has ${from}`);
  writeFileSync(join(dir, file), text.replace(from, to));
}

/** Sets the release version and hello's vsn (kept equal) from `from` to `to`. */
function setVersions(dir: string, from: string, to: string, appSrc = 'src/hello.app.src'): void {
  edit(dir, 'rebar.config', `{release, {hello, "${from}"}`, `{release, {hello, "${to}"}`);
  edit(dir, appSrc, `{vsn, "${from}"}`, `{vsn, "${to}"}`);
}

/** Commits all of `dir` and tags it `tag`, with the example repository's fixed identity and dates (scripts/lib.sh). */
function commit(dir: string, day: number, tag: string): void {
  execFileSync('bash', ['-c', '. "$1" && export_example_git_identity && example_commit "$2" "$3" "$4"', 'commit', join(root, 'scripts', 'lib.sh'), String(day), tag, `hello ${tag}`], {
    env: { ...process.env, DEST: dir },
  });
}

const evalOn = async (h: string, expression: string) => (await ssh.run(hostTarget(env, h, DELIVER_TO), node.evaluate(layout, expression))).stdout.trim();
const pidOf = async (h: string) => (await ssh.run(hostTarget(env, h, DELIVER_TO), node.osPid(layout))).stdout.trim();
const runningVersions = () => (JSON.parse(ferry(project, '--json', 'version', 'production').out) as NodeCommandResult).hosts.map((h) => h.version);
const stored = () => (JSON.parse(ferry(project, 'show', 'releases', '--json').out) as StoredRelease[]).map((r) => `${r.version} ${r.type}`);

before(() => {
  rmSync(store, { recursive: true, force: true });
  project = exampleProject(env, config('free', store));
  // The example's newest code (0.4.0: hello_server's state is a record, hello_ticker runs), released as "1".
  setVersions(project, '0.4.0', '1');
  commit(project, 5, '1');
  setVersions(project, '1', '2');
  edit(project, 'src/hello.erl', '<<"Hello from Ferry 0.4, with a ticker!">>', '<<"Hello from Ferry 2">>');
  commit(project, 6, '2');
  setVersions(project, '2', '2.1');
  // A change to hello_server itself: the generated appup updates it, and its code_change/3 counts the upgrade.
  edit(project, 'src/hello_server.erl', '{reply, {error, unknown_call}, State}', '{reply, {error, {unknown_call, _Request}}, State}');
  commit(project, 7, '2.1');
  worker = spawnWorker();
  ssh = new SshPool(testAuth(env));
});

after(async () => {
  if (project) ferry(project, 'stop', 'production');
  await ssh?.close();
  if (worker) await stopWorker(worker);
});

test('ferry build release builds 1, 2, 2.1 and (--set-version=10) 10; ferry show releases lists them in version order', () => {
  for (const tag of ['1', '2', '2.1']) {
    const r = ferry(project, 'build', 'release', `--tag=${tag}`);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, new RegExp(`built hello ${tag.replace('.', '\\.')} from [0-9a-f]{10}`));
  }
  const ten = ferry(project, 'build', 'release', '--tag=2.1', '--set-version=10');
  assert.equal(ten.code, 0, ten.out + ten.err);
  assert.match(ten.out, /built hello 10 from [0-9a-f]{10}/);
  assert.deepEqual(stored(), ['1 release', '2 release', '2.1 release', '10 release']);
  assert.match(ferry(project, 'show', 'releases').out, /^VERSION\s+TYPE.*\n1\s+release .*\n2\s+release .*\n2\.1\s+release .*\n10\s+release /);
});

test('--increment-version=minor of "1" says why it cannot', () => {
  const r = ferry(project, 'build', 'release', '--tag=1', '--increment-version=minor');
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.out + r.err, /cannot increment the minor segment of "1": it has only one segment; use --increment-version=major or --set-version=V/);
});

test('ferry deploy release 1 starts every node on 1; ferry version reads it from the nodes', async () => {
  const r = ferry(project, 'deploy', 'release', 'to', 'production', '--version=1', '--start-deploy');
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /hello 1 → production: 3 hosts ok/);
  assert.deepEqual(runningVersions(), ['1', '1', '1']);
  for (const h of PROD) {
    for (let i = 0; i < 3; i++) await evalOn(h, 'hello_server:bump().');
    assert.equal(await evalOn(h, 'hello_server:count().'), '3');
    pids[h] = await pidOf(h);
    assert.match(pids[h]!, /^\d+$/);
  }
});

/** Builds the upgrade `from` -> `to` from the stored `from`, deploys it, and checks pid, version and counter. */
function hotUpgrade(from: string, to: string, deployArgs: string[]): string {
  const built = ferry(project, 'build', 'upgrade', `--with=${from}`, `--to=${to}`);
  assert.equal(built.code, 0, built.out + built.err);
  assert.match(built.out, new RegExp(`built upgrade hello ${from.replace('.', '\\.')} -> ${to.replace('.', '\\.')} \\(appups: 1 generated by Ferry\\)`));
  const r = ferry(project, 'deploy', 'upgrade', 'to', 'production', ...deployArgs);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, new RegExp(`hello ${from.replace('.', '\\.')} → ${to.replace('.', '\\.')} → production: 3 hosts ok`));
  for (const h of PROD) assert.match(r.out, new RegExp(`✓ ${addr(h).replaceAll('.', '\\.')}\\s+done\\s+${to.replace('.', '\\.')} \\(pid ${pids[h]}\\)`), `${h}: upgraded with the same pid`);
  return r.out;
}

test('1 -> 2 by hot upgrade (ferry deploy upgrade --version=2): same OS pid, the counter kept, the new code runs', async () => {
  hotUpgrade('1', '2', ['--version=2']);
  assert.deepEqual(runningVersions(), ['2', '2', '2']);
  for (const h of PROD) {
    assert.equal(await pidOf(h), pids[h], `${h}: the OS pid never changes`);
    assert.equal(await evalOn(h, 'hello_server:count().'), '3', `${h}: the counter survived 1 -> 2`);
    assert.equal(await evalOn(h, 'binary_to_list(hello:greeting()).'), '"Hello from Ferry 2"');
  }
});

test('2 -> 2.1 by hot upgrade (ferry deploy upgrade: the newest upgrade is 2.1): hello_server updated in place, its state kept', async () => {
  hotUpgrade('2', '2.1', []);
  assert.deepEqual(runningVersions(), ['2.1', '2.1', '2.1']);
  for (const h of PROD) {
    assert.equal(await pidOf(h), pids[h], `${h}: the OS pid never changes`);
    assert.equal(await evalOn(h, 'hello_server:count().'), '3', `${h}: the counter survived 2 -> 2.1`);
    assert.equal(await evalOn(h, 'hello_server:upgrades().'), '1', `${h}: code_change/3 ran once`);
    assert.equal(await evalOn(h, 'gen_server:call(hello_server, nope).'), '{error, {unknown_call, nope}}', `${h}: the new hello_server answers`);
  }
  assert.deepEqual(stored(), ['1 release', '2 release', '2 upgrade', '2.1 release', '2.1 upgrade', '10 release']);
});

test('umbrella layout: --increment-version=patch reads 2.1 from rebar.config and builds 2.2; only the app tied to the release changes', () => {
  const umbrellaStore = join(env.state, 'store-free-umbrella');
  rmSync(umbrellaStore, { recursive: true, force: true });
  const dir = exampleProject(env, config('free-umbrella', umbrellaStore), project);
  // The layout `rebar3 new release` makes: apps/<app>/src; a second application with a version of its own.
  mkdirSync(join(dir, 'apps', 'hello'), { recursive: true });
  execFileSync('git', ['mv', 'src', 'apps/hello/src'], { cwd: dir, stdio: 'ignore' });
  mkdirSync(join(dir, 'apps', 'extra', 'src'), { recursive: true });
  writeFileSync(join(dir, 'apps/extra/src/extra.app.src'), '{application, extra, [{vsn, "0.9.0"}, {applications, [kernel, stdlib]}, {modules, []}, {registered, []}]}.\n');
  writeFileSync(join(dir, 'apps/extra/src/extra.erl'), '-module(extra).\n-export([hi/0]).\nhi() -> hi.\n');
  edit(dir, 'rebar.config', '{release, {hello, "2.1"}, [hello, sasl]}', '{release,\n        {hello, "2.1"},\n        [hello, extra, sasl]}');
  commit(dir, 8, 'umbrella');

  const r = ferry(dir, 'build', 'release', '--tag=umbrella', '--increment-version=patch');
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /built hello 2\.2 from [0-9a-f]{10}/);
  const listing = execFileSync('tar', ['-tzf', join(umbrellaStore, 'hello_2.2.release.tar.gz')], { encoding: 'utf8' });
  for (const entry of ['releases/2.2/hello.rel', 'lib/hello-2.2/ebin/hello.app', 'lib/extra-0.9.0/ebin/extra.app']) {
    assert.match(listing, new RegExp(`^${entry.replaceAll('.', '\\.')}$`, 'm'), entry);
  }
  // The build host's checkout, as the perl left it; your repository is not changed.
  const checkout = (file: string) => readFileSync(join(env.hostRoot('build'), 'ferry-build', 'free-umbrella', file), 'utf8');
  assert.match(checkout('rebar.config'), /\{release,\n\s+\{hello, "2\.2"\},/);
  assert.match(checkout('apps/hello/src/hello.app.src'), /\{vsn, "2\.2"\}/);
  assert.match(checkout('apps/extra/src/extra.app.src'), /\{vsn, "0\.9\.0"\}/);
  assert.match(readFileSync(join(dir, 'apps/hello/src/hello.app.src'), 'utf8'), /\{vsn, "2\.1"\}/);
});

test('a bad version is refused by the ferry CLI and by temporal workflow start, before any SSH login', async () => {
  const logins = () => HOSTS.reduce((n, h) => n + loginCount(env, h), 0);
  const before = logins();
  const rule = 'use letters, digits and . + ~ - (not _, which separates app and version in file names), starting with a letter or digit';
  const cli: Array<[string[], string]> = [
    [['deploy', 'release', 'to', 'production', '--version=1;id'], `ferry: invalid version "1;id": ";" is not allowed; ${rule}\n`],
    [['deploy', 'release', 'to', 'production', '--version=../x'], `ferry: invalid version "../x": "/" is not allowed; ${rule}\n`],
    // One argument can be at most 128 KiB on Linux: 100,000 characters is what a command line can carry.
    [['deploy', 'upgrade', 'to', 'production', `--version=${'1'.repeat(100_000)}`], `ferry: invalid version "${'1'.repeat(40)}"...: it has 100000 characters, at most 100 are allowed\n`],
    [['build', 'upgrade', '--with=1;id', '--to=2'], `ferry: invalid version "1;id": ";" is not allowed; ${rule}\n`],
    [['build', 'release', '--set-version=../x'], `ferry: --set-version: invalid version "../x": "/" is not allowed; ${rule}\n`],
  ];
  for (const [args, message] of cli) {
    const r = ferry(project, ...args);
    assert.deepEqual([r.code, r.err], [2, message], args.join(' ').slice(0, 80));
  }

  const c = await loadDeliveryConfig({ cwd: project });
  const inputs: Array<[string, unknown, RegExp]> = [
    ['deployRelease', { ...deployRequest(c, 'production', { version: '1' }), version: '1;id' }, /version: invalid version .*1;id.*;.* is not allowed/],
    ['deployRelease', { ...deployRequest(c, 'production', { version: '1' }), version: '../x' }, /version: invalid version .*\.\.\/x.*\/.* is not allowed/],
    ['deployRelease', { ...deployRequest(c, 'production', { version: '1' }), version: '1'.repeat(200_000) }, /version: invalid version .*it has 200000 characters, at most 100 are allowed/],
    ['deployUpgrade', { ...deployUpgradeRequest(c, 'production', {}), version: '../x' }, /version: invalid version .*\/.* is not allowed/],
    ['buildUpgrade', { ...buildUpgradeRequest(c, { with: '1', to: '2' }), with: '1;id' }, /with: invalid version .*;.* is not allowed/],
    ['buildRelease', { ...buildRequest(c, { tag: '1' }), versioning: { set: '../x' } }, /versioning\.set: invalid version .*\/.* is not allowed/],
  ];
  const file = join(env.state, 'free-versions-input.json');
  for (const [i, [type, input, message]] of inputs.entries()) {
    writeFileSync(file, JSON.stringify(input));
    const id = `e2e-free-versions-bad-${process.pid}-${i}`;
    const start = temporal(env, 'workflow', 'start', '--type', type, '--task-queue', 'ferry', '--workflow-id', id, '--input-file', file);
    assert.equal(start.code, 0, start.err);
    const result = temporal(env, 'workflow', 'result', '--workflow-id', id);
    assert.notEqual(result.code, 0, `${type} failed`);
    assert.match(result.out + result.err, message, type);
  }
  assert.equal(logins(), before, 'no host saw a login');
});
