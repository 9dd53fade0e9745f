import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadDeliveryConfig } from '../../client/config-file';
import { deployRequest } from '../../client/requests';
import type { StoredRelease } from '../../core/domain/release';
import type { DeployStatus, NodeCommandResult } from '../../core/domain/requests';
import { exampleProject, loginCount, mismatchedKnownHosts, removeUpgrades, testConfig, testEnv } from '../support/env';

const env = testEnv();
const root = join(__dirname, '..', '..');
const temporal = join(root, '.venv', 'bin', 'temporal');
let project: string;
let worker: ChildProcess;

/** Runs the `ferry` CLI as a user does, in the example project. */
function ferry(...args: string[]) {
  return ferryIn(project, ...args);
}
function ferryIn(cwd: string, ...args: string[]) {
  const r = spawnSync(join(root, 'bin', 'ferry'), args, { cwd, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function temporalCli(...args: string[]) {
  const r = spawnSync(temporal, [...args, '--address', env.temporalAddress], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

before(async () => {
  removeUpgrades(env);
  project = exampleProject(env, testConfig(env));
  worker = spawn(join(root, 'bin', 'ferry'), ['worker'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FERRY_LOG_LEVEL: 'warn' } });
  worker.stderr?.on('data', (d: Buffer) => process.stderr.write(`[worker] ${d.toString()}`));
});

after(async () => {
  ferry('stop', 'production');
  worker.kill('SIGTERM');
  await new Promise((r) => worker.once('exit', r));
});

test('ferry build release --tag=0.2.0 builds on the build host and stores the release', () => {
  const r = ferry('build', 'release', '--tag=0.2.0');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /building the release on the build host/);
  assert.match(r.out, /built hello 0\.2\.0 from [0-9a-f]{10}/);
});

test('ferry show releases lists the store in version order', () => {
  const r = ferry('show', 'releases', '--json');
  assert.equal(r.code, 0, r.err);
  const versions = (JSON.parse(r.out) as Array<{ version: string }>).map((x) => x.version);
  assert.ok(versions.includes('0.2.0'));
  assert.deepEqual(versions, [...versions].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })));
  assert.match(ferry('show', 'releases').out, /^VERSION\s+TYPE\s+REVISION/);
});

test('ferry deploy release to production --start-deploy shows each host and ends with every node on 0.2.0', () => {
  const r = ferry('deploy', 'release', 'to', 'production', '--version=0.2.0', '--start-deploy');
  assert.equal(r.code, 0, r.err);
  for (const host of ['prod1', 'prod2', 'prod3']) assert.match(r.out, new RegExp(`✓ ${env.hostRe(host)}\\s+done\\s+0\\.2\\.0`));
  assert.match(r.out, /hello 0\.2\.0 → production: 3 hosts ok/);
});

test('ferry ping and ferry version report per host', () => {
  const ping = ferry('ping', 'production');
  assert.equal(ping.code, 0, ping.err);
  assert.equal((ping.out.match(/✓ .*pong/g) ?? []).length, 3);
  const version = ferry('--json', 'version', 'production');
  assert.equal(version.code, 0, version.err);
  assert.deepEqual((JSON.parse(version.out) as NodeCommandResult).hosts.map((h) => h.version), ['0.2.0', '0.2.0', '0.2.0']);
});

test('ferry build upgrade --with=0.2.0 --to=0.3.0 stores the upgrade; ferry show appups prints the appup it used', () => {
  const r = ferry('build', 'upgrade', '--with=0.2.0', '--to=0.3.0');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /making the relup on the build host/);
  assert.match(r.out, /built upgrade hello 0\.2\.0 -> 0\.3\.0 \(appups: 1 the application's own\): .*hello_0\.3\.0\.upgrade\.tar\.gz/);
  assert.match(r.out, /\npreflight: hot upgrade.*; `ferry show upgrade-plan --from=0\.2\.0 --to=0\.3\.0` shows it\n/);
  const show = ferry('show', 'appups', '0.3.0');
  assert.equal(show.code, 0, show.err);
  assert.match(show.out, /^hello 0\.2\.0 -> 0\.3\.0 \(the application's own ebin\/hello\.appup\):\n/);
  assert.match(show.out, /\{update, hello_server, \{advanced, \[\]\}\}/);
  assert.match(ferry('show', 'releases').out, /\n0\.3\.0\s+upgrade from 0\.2\.0 /);
});

test('ferry show relup prints the relup inside the stored upgrade; a version with no upgrade is named', () => {
  const r = ferry('show', 'relup', '0.3.0');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^relup of hello 0\.2\.0 -> 0\.3\.0:\n(%%.*\n)?\{"0\.3\.0",\s*\[\{"0\.2\.0",/);
  assert.match(r.out, /\{load_object_code,\s*\{hello,\s*"0\.3\.0",\s*\[[^\]]*hello_server/);
  const json = JSON.parse(ferry('--json', 'show', 'relup', '0.3.0').out) as { version: string; fromVersion: string; relup: string };
  assert.deepEqual([json.version, json.fromVersion], ['0.3.0', '0.2.0']);
  assert.equal(r.out, `relup of hello 0.2.0 -> 0.3.0:\n${json.relup.trimEnd()}\n`);
  const missing = ferry('show', 'relup', '9.9.9');
  assert.equal(missing.code, 2);
  assert.match(missing.err, /^ferry: .*9\.9\.9/);
});

test('ferry download upgrade and ferry upload upgrade move an upgrade between stores; its from-version is read from the relup', () => {
  const file = join(project, 'up.tar.gz');
  const down = ferry('download', 'upgrade', '0.3.0', file);
  assert.equal(down.code, 0, down.err);
  assert.match(down.out, /^downloaded hello 0\.2\.0 -> 0\.3\.0 \(upgrade\) to .*up\.tar\.gz \(sha256 verified\)\n$/);
  const stored = (JSON.parse(ferry('show', 'releases', '--json').out) as StoredRelease[]).find((r) => r.type === 'upgrade' && r.version === '0.3.0')!;
  assert.equal(createHash('sha256').update(readFileSync(file)).digest('hex'), stored.sha256);

  rmSync(join(env.state, 'store-e2e-upload'), { recursive: true, force: true });
  const other = exampleProject(env, testConfig(env, `RELEASE_STORE="${join(env.state, 'store-e2e-upload')}"\n`));
  const up = ferryIn(other, 'upload', 'upgrade', '0.3.0', file);
  assert.equal(up.code, 0, up.err);
  assert.match(up.out, /^uploaded hello 0\.2\.0 -> 0\.3\.0 \(upgrade\) to .*hello_0\.3\.0\.upgrade\.tar\.gz/);
  assert.match(ferryIn(other, 'show', 'releases').out, /\n0\.3\.0\s+upgrade from 0\.2\.0 /);
  assert.match(ferryIn(other, 'show', 'relup', '0.3.0').out, /^relup of hello 0\.2\.0 -> 0\.3\.0:\n/);
  assert.match(ferryIn(other, 'upload', 'upgrade', '0.3.0', file).out, /already in .* with the same sha256; nothing sent/);

  const release = join(project, 'rel.tar.gz');
  assert.equal(ferry('download', 'release', '0.2.0', release).code, 0);
  const refused = ferryIn(other, 'upload', 'upgrade', '0.2.0', release);
  assert.equal(refused.code, 2);
  assert.match(refused.err, /^ferry: .*rel\.tar\.gz has no releases\/0\.2\.0\/relup: it is not an upgrade to 0\.2\.0/);
  assert.equal(existsSync(join(env.state, 'store-e2e-upload', 'hello_0.2.0.upgrade.tar.gz')), false, 'nothing was stored');
});

test('ferry deploy upgrade to production hot-upgrades every node to the newest upgrade and reports the same pid', () => {
  const r = ferry('deploy', 'upgrade', 'to', 'production');
  assert.equal(r.code, 0, r.out + r.err);
  for (const host of ['prod1', 'prod2', 'prod3']) assert.match(r.out, new RegExp(`✓ ${env.hostRe(host)}\\s+done\\s+0\\.3\\.0 \\(pid \\d+\\)`));
  assert.match(r.out, /hello 0\.2\.0 → 0\.3\.0 → production: 3 hosts ok/);
  const version = ferry('--json', 'version', 'production');
  assert.deepEqual((JSON.parse(version.out) as NodeCommandResult).hosts.map((h) => h.version), ['0.3.0', '0.3.0', '0.3.0']);
  const again = ferry('deploy', 'upgrade', 'to', 'production', '--version=0.3.0');
  assert.equal(again.code, 0, again.out + again.err);
  assert.equal((again.out.match(/= .*skipped\s+already on 0\.3\.0/g) ?? []).length, 3);
});

test('the stock temporal CLI starts deployRelease from a plain JSON file and reads the result', async () => {
  const config = await loadDeliveryConfig({ cwd: project });
  const input = join(env.state, 'deploy-input.json');
  writeFileSync(input, JSON.stringify(deployRequest(config, 'production', { version: '0.2.0', startDeploy: true })));
  const start = temporalCli('workflow', 'start', '--type', 'deployRelease', '--task-queue', 'ferry', '--workflow-id', 'e2e-temporal-cli', '--input-file', input);
  assert.equal(start.code, 0, start.err);
  const result = temporalCli('workflow', 'result', '--workflow-id', 'e2e-temporal-cli', '--output', 'json');
  assert.equal(result.code, 0, result.err);
  const status = (JSON.parse(result.out) as { result: DeployStatus }).result;
  assert.equal(status.phase, 'done');
  assert.equal(Object.keys(status.hosts).length, 3);
});

test('input typed into temporal workflow start is validated by the workflow before any host is touched', () => {
  const logins = loginCount(env, 'prod1');
  const bad = JSON.stringify({
    app: 'hello', environment: 'production', version: '0.2.0; touch /opt/pwned', store: '/tmp/x',
    hosts: [{ name: '127.0.0.1:1', address: '127.0.0.1', port: env.port('prod1'), user: 'root', deployTo: '/opt/$(touch x)', nodeName: 'a b' }],
  });
  const start = temporalCli('workflow', 'start', '--type', 'deployRelease', '--task-queue', 'ferry', '--workflow-id', 'e2e-bad-input', '--input', bad);
  assert.equal(start.code, 0, start.err);
  const result = temporalCli('workflow', 'result', '--workflow-id', 'e2e-bad-input');
  assert.notEqual(result.code, 0);
  assert.match(result.out + result.err, /invalid deployRelease request: version: invalid version .*0\.2\.0; touch \/opt\/pwned.* are not allowed; .*deployTo/);
  assert.equal(loginCount(env, 'prod1'), logins);
});

test('bad input is refused with a clear message and exit code before any workflow starts', () => {
  const cases: Array<[string[], RegExp]> = [
    [['deploy', 'release', 'to', 'production', '--version=0.1.0;reboot'], /invalid version "0\.1\.0;reboot"/],
    [['deploy', 'release', 'to', 'moon', '--version=0.2.0'], /unknown environment "moon"/],
    [['build', 'release', '--branch=$(reboot)'], /invalid branch/],
    [['deploy', 'release', 'to', 'production', '--version=0.2.0', '--host=10.9.9.9'], /unknown host "10\.9\.9\.9"/],
  ];
  for (const [args, message] of cases) {
    const r = ferry(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.out}${r.err}`);
    assert.match(r.err, message);
  }
});

test('a version that is not in the store fails the deploy and names what the store has', () => {
  const r = ferry('deploy', 'release', 'to', 'production', '--version=9.9.9');
  assert.equal(r.code, 1);
  assert.match(r.out, /hello 9\.9\.9 is not in the release store .*\(it has .*0\.2\.0.*\)/);
});

test('a second deploy to a busy environment names the one in flight', async () => {
  const describe = () => {
    const d = temporalCli('workflow', 'describe', '--workflow-id', 'ferry/hello/production', '--output', 'json');
    const info = d.code === 0 ? (JSON.parse(d.out) as { workflowExecutionInfo: { status: string; execution: { runId: string } } }).workflowExecutionInfo : undefined;
    return { runId: info?.execution.runId, running: info?.status === 'WORKFLOW_EXECUTION_STATUS_RUNNING' };
  };
  const earlier = describe().runId;
  // The first deploy includes a host whose port is closed: its retries keep the deploy in flight for several seconds.
  const slow = exampleProject(env, testConfig(env, `PRODUCTION_HOSTS="${env.host('prod1')} 127.0.0.1:1"`));
  const first = spawn(join(root, 'bin', 'ferry'), ['deploy', 'release', 'to', 'production', '--version=0.2.0'], { cwd: slow, stdio: 'ignore' });
  const firstDone = new Promise<number | null>((r) => first.once('exit', r));
  let now = describe();
  for (let i = 0; i < 200 && !(now.running && now.runId !== earlier); i++) {
    await new Promise((r) => setTimeout(r, 50));
    now = describe();
  }
  assert.ok(now.running, 'the first deploy is running');
  const second = ferry('deploy', 'release', 'to', 'production', '--version=0.2.0');
  assert.equal(second.code, 2, second.out + second.err);
  assert.match(second.err, /ferry\/hello\/production is busy: "deploy release 0\.2\.0 to 127\.0\.0\.\d+:\d+ 127\.0\.0\.1:1" started by /);
  assert.equal(temporalCli('workflow', 'terminate', '--workflow-id', 'ferry/hello/production', '--reason', 'test over').code, 0);
  assert.equal(await firstDone, 1);
});

test('ferry doctor passes on healthy hosts with a worker polling', () => {
  const r = ferry('doctor', 'production');
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /✓ temporal\s+worker polling "ferry"/);
  assert.match(r.out, /✓ build 127\.0\.0\.\d+:\d+\s+rebar3: rebar 3\./);
  assert.equal((r.out.match(/✓ production 127\.0\.0\.\d+:\d+\s+host key and login/g) ?? []).length, 3);
  assert.match(r.out, /all checks passed/);
});

test('ferry doctor names a stopped host and a wrong host key, each with its fix, and exits 1', () => {
  const knownHosts = mismatchedKnownHosts(env, 'other', 'prod1');
  const sick = exampleProject(env, testConfig(env, `PRODUCTION_HOSTS="${env.host('prod1')} 127.0.0.1:1 ${env.host('other')}"\nSSH_KNOWN_HOSTS="${knownHosts}"\n`));
  const r = spawnSync(join(root, 'bin', 'ferry'), ['doctor', 'production'], { cwd: sick, encoding: 'utf8' });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /✗ production 127\.0\.0\.1:1\s+port reachable: 127\.0\.0\.1:1: connection refused\n\s+fix: check the host is up/);
  assert.match(r.stdout, new RegExp(`✗ production ${env.hostRe('other')}\\s+host key and login: .*host key does not match.*\\n\\s+fix: compare \`ssh-keyscan`));
  assert.match(r.stdout, /✓ production 127\.0\.0\.\d+:\d+\s+host key and login/);
  assert.match(r.stdout, /2 of \d+ checks failed/);
});

test('ferry upgrade production with one node stopped: the running ones are hot-upgraded, the stopped one gets the full release', () => {
  // The running nodes must agree on 0.1.0, the version to upgrade from; earlier tests leave other versions behind, and
  // this file may run before any other test built 0.1.0.
  if (!ferry('show', 'releases', '--json').out.includes('"version":"0.1.0"')) assert.equal(ferry('build', 'release', '--tag=0.1.0').code, 0);
  const setup = ferry('deploy', 'release', 'to', 'production', '--version=0.1.0', '--start-deploy');
  assert.equal(setup.code, 0, setup.out + setup.err);
  const stopped = `${env.host('prod3')}`;
  assert.equal(ferry('stop', 'production', `--host=${stopped}`).code, 0);
  const r = ferry('upgrade', 'production', '--tag=0.2.0');
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /making the relup on the build host/);
  assert.match(r.out, /hello 0\.1\.0 → 0\.2\.0 → production: 3 hosts ok/);
  for (const host of ['prod1', 'prod2']) assert.match(r.out, new RegExp(`✓ ${env.hostRe(host)}\\s+done\\s+0\\.2\\.0 \\(pid \\d+\\)`));
  assert.match(r.out, new RegExp(`✓ ${env.hostRe('prod3')}\\s+done\\s+0\\.2\\.0`));
  const version = ferry('--json', 'version', 'production');
  assert.deepEqual((JSON.parse(version.out) as NodeCommandResult).hosts.map((h) => h.version), ['0.2.0', '0.2.0', '0.2.0']);
});

test('ferry stop production stops every node; ping then fails with exit 1', () => {
  const stop = ferry('stop', 'production');
  assert.equal(stop.code, 0, stop.err);
  const ping = ferry('ping', 'production');
  assert.equal(ping.code, 1);
  assert.equal((ping.out.match(/✗ .*is not running/g) ?? []).length, 3);
});

test('ferry trust shows fingerprints, adds new host keys only when confirmed, and never replaces a different key', () => {
  const knownHosts = join(env.state, 'known_hosts.trust');
  writeFileSync(knownHosts, '');
  const fresh = exampleProject(env, testConfig(env, `SSH_KNOWN_HOSTS="${knownHosts}"\n`));
  const run = (...args: string[]) => spawnSync(join(root, 'bin', 'ferry'), args, { cwd: fresh, encoding: 'utf8' });

  const unconfirmed = run('trust', 'production');
  assert.equal(unconfirmed.status, 2, unconfirmed.stdout + unconfirmed.stderr);
  assert.equal((unconfirmed.stdout.match(/\? 127\.0\.0\.\d+:\d+\s+ssh-ed25519 SHA256:[A-Za-z0-9+/]{43} is new/g) ?? []).length, 3);
  assert.match(unconfirmed.stderr, /nothing added .*confirm with --yes/);
  assert.equal(readFileSync(knownHosts, 'utf8'), '');

  const confirmed = run('trust', 'production', '--yes');
  assert.equal(confirmed.status, 0, confirmed.stdout + confirmed.stderr);
  const real = readFileSync(env.knownHosts, 'utf8');
  for (const line of readFileSync(knownHosts, 'utf8').trim().split('\n')) assert.ok(real.includes(line), `${line} is the host's real key`);
  assert.equal(run('ping', 'production').status, 1, 'login works now: the nodes are just stopped');

  const again = run('trust', 'production', '--yes');
  assert.equal(again.status, 0);
  assert.equal((again.stdout.match(/already in/g) ?? []).length, 3);

  const swapped = exampleProject(env, testConfig(env, `PRODUCTION_HOSTS="${env.host('other')}"\nSSH_KNOWN_HOSTS="${mismatchedKnownHosts(env, 'other', 'prod1')}"\n`));
  const mismatch = spawnSync(join(root, 'bin', 'ferry'), ['trust', 'production', '--yes'], { cwd: swapped, encoding: 'utf8' });
  assert.equal(mismatch.status, 1);
  assert.match(mismatch.stdout, /DIFFERS from .*ssh-keygen -R/);
});
