import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { DeployStatus } from '../../core/domain/requests';
import { exampleProject, testEnv } from '../support/env';

/** The mix example app through the `ferry` CLI: build, deploy, start, stop, version, migrations, an upgrade missing from the store. */

const env = testEnv();
const root = join(__dirname, '..', '..');
let project: string;
let worker: ChildProcess;
const hosts = ['prod1', 'prod2'];
const name = (h: string) => `127.0.0.1:${env.port(h)}`;
/** A file under the mix app's deploy root on a host, as the test runner sees it. */
const onHost = (h: string, path: string) => join(env.hostRoot(h), 'ferry-mix', 'hello_mix', path);

function ferry(...args: string[]) {
  const r = spawnSync(join(root, 'bin', 'ferry'), args, { cwd: project, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

before(() => {
  project = exampleProject(
    env,
    `APP="hello_mix"
BUILD_HOST="127.0.0.1:${env.port('build')}"
BUILD_USER="root"
BUILD_AT="/opt/ferry-build/hello_mix"
PRODUCTION_HOSTS="${hosts.map(name).join(' ')}"
PRODUCTION_USER="root"
DELIVER_TO="/opt/ferry-mix"
NODE_NAME='hello_mix_{port}@127.0.0.1'
RELEASE_STORE="${join(env.state, 'store')}"
SSH_KNOWN_HOSTS="${env.knownHosts}"
SSH_IDENTITY_FILE="${env.identity}"
`,
    env.exampleMixRepo,
  );
  worker = startWorker();
});

function startWorker(): ChildProcess {
  const w = spawn(join(root, 'bin', 'ferry'), ['worker'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FERRY_LOG_LEVEL: 'warn' } });
  w.stderr?.on('data', (d: Buffer) => process.stderr.write(`[worker] ${d.toString()}`));
  return w;
}

after(async () => {
  ferry('stop', 'production');
  worker.kill('SIGTERM');
  await new Promise((r) => worker.once('exit', r));
});

test('ferry build release --tag=0.1.0 builds the mix release on the build host (mix.exs: BUILD_TOOL detected)', () => {
  const r = ferry('build', 'release', '--tag=0.1.0');
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /built hello_mix 0\.1\.0 from [0-9a-f]{10}/);
});

test('ferry deploy release --start-deploy starts each mix node under its own name; version and ping read the nodes', () => {
  const r = ferry('deploy', 'release', 'to', 'production', '--version=0.1.0', '--start-deploy');
  assert.equal(r.code, 0, r.err + r.out);
  const v = ferry('version', 'production');
  assert.equal(v.code, 0, v.err + v.out);
  for (const h of hosts) assert.match(v.out, new RegExp(`${name(h).replaceAll('.', '\\.')}.*0\\.1\\.0`));
  assert.equal(ferry('ping', 'production').code, 0);
  assert.match(readFileSync(onHost('prod1', 'ferry/vm.args'), 'utf8'), new RegExp(`^-name hello_mix_${env.port('prod1')}@127\\.0\\.0\\.1\\n`));
});

test('ferry show migrations prints the status from the first running node; nothing is applied yet', () => {
  const r = ferry('show', 'migrations', 'production');
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, new RegExp(`migrations on ${name('prod1').replaceAll('.', '\\.')} \\(production\\):`));
  assert.match(r.out, /down 1 create_greetings\n\s+down 2 add_counter/);
});

test('ferry migrate production runs every pending migration once on one node and prints what it did', () => {
  const r = ferry('migrate', 'production');
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /migrate up on .*:\n\s+up 1 create_greetings\n\s+up 2 add_counter/);
  assert.equal(readFileSync(onHost('prod1', 'data/migrations/applied'), 'utf8'), '1\n2\n');
  const again = ferry('migrate', 'on', 'production', 'up');
  assert.match(again.out, /nothing to migrate \(applied: 1, 2\)/);
});

test('ferry migrate production down --version=1 rolls back to 1; down without a version is refused before anything runs', () => {
  const refused = ferry('migrate', 'production', 'down');
  assert.equal(refused.code, 2);
  assert.match(refused.err, /migrate down needs --version=N/);
  const bad = ferry('migrate', 'production', 'down', '--version=1;halt');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /a migration version is a whole number/);
  const r = ferry('migrate', 'production', 'down', '--version=1');
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /down 2 add_counter/);
  assert.match(ferry('show', 'migrations', 'production').out, /up\s+1 create_greetings\n\s+down 2 add_counter/);
});

test('ferry deploy upgrade of a mix app without an upgrade in the store says how to build one, touching no node', () => {
  const r = ferry('deploy', 'upgrade', 'to', 'production');
  assert.equal(r.code, 1, r.err + r.out);
  assert.match(r.err + r.out, /has no upgrade of hello_mix; build one with `ferry build upgrade --from=<version>`/);
  assert.match(ferry('version', 'production').out, /0\.1\.0/);
});

test('ferry update production --tag=0.2.0 --start-deploy --run-migrations restarts on 0.2.0, then migrates once', () => {
  const r = ferry('update', 'production', '--tag=0.2.0', '--start-deploy', '--run-migrations', '--json');
  assert.equal(r.code, 0, r.err + r.out);
  const status = JSON.parse(r.out) as DeployStatus;
  assert.deepEqual(Object.values(status.hosts).map((h) => [h.step, h.version]), [['done', '0.2.0'], ['done', '0.2.0']]);
  assert.equal(status.migration?.host, name('prod1'));
  assert.match(status.migration?.output ?? '', /^up 2 add_counter\nup 3 add_audit_log\n/);
  const log = readFileSync(onHost('prod1', 'data/migrations/log'), 'utf8');
  assert.equal(log.match(/^up 3 add_audit_log$/gm)?.length, 1);
  assert.match(ferry('version', 'production').out, /0\.2\.0/);
});

test('a worker killed with SIGKILL while an update runs its migrations is replaced; they ran exactly once', async () => {
  const pause = onHost('prod1', 'data/migrations/pause');
  const owner = onHost('prod1', 'ferry/migrate.owner');
  const calls = () => (readFileSync(onHost('prod1', 'data/migrations/log'), 'utf8').match(/^migrate latest$/gm) ?? []).length;
  const before = calls();
  writeFileSync(pause, '8000');
  try {
    const cli = spawn(join(root, 'bin', 'ferry'), ['update', 'production', '--tag=0.2.0', '--start-deploy', '--run-migrations', '--json'], { cwd: project });
    let out = '';
    cli.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => cli.once('exit', r));
    // The migration holds the host's lock (and sleeps 8 s inside HelloMix.Release.migrate): kill the worker now.
    while (!(existsSync(owner) && readFileSync(owner, 'utf8').startsWith('ferry_hello_mix_production_after@'))) await new Promise((r) => setTimeout(r, 100));
    worker.kill('SIGKILL');
    await new Promise((r) => worker.once('exit', r));
    worker = startWorker();
    assert.equal(await exited, 0, out);
    const status = JSON.parse(out) as DeployStatus;
    assert.match(status.migration?.output ?? '', /nothing to migrate \(applied: 1, 2, 3\)/);
    assert.equal(calls() - before, 1, `HelloMix.Release.migrate ran once (recorded: ${String(status.migration?.recorded)})`);
  } finally {
    rmSync(pause, { force: true });
  }
});

test('ferry stop production stops the mix nodes; then migrations find no running node', () => {
  const r = ferry('stop', 'production');
  assert.equal(r.code, 0, r.err + r.out);
  assert.equal(ferry('ping', 'production').code, 1);
  const m = ferry('migrate', 'production');
  assert.equal(m.code, 1);
  assert.match(m.out, /no node of production answers ping/);
});
