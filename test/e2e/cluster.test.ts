import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { NodeCommandResult } from '../../core/domain/requests';
import { exampleProject, testConfig, testEnv } from '../support/env';

const env = testEnv();
const root = join(__dirname, '..', '..');
const prods = ['prod1', 'prod2', 'prod3'];
/** Unique on this machine's epmd (hosts share it), and unlike the NODE_NAME the config would give. */
const nodeOf = (host: string) => `hello_c${env.port(host)}@127.0.0.1`;
const hostName = (host: string) => `${env.host(host)}`;
/** A path on a host (its /opt), as the test runner sees it. */
const onHost = (host: string, path: string) => join(env.hostRoot(host), path.replace(/^\/opt\//, ''));
const cookieFile = join(env.state, 'cluster.cookie');

let cluster: string;
let missing: string;
let worker: ChildProcess;

/** Runs the `ferry` CLI as a user does, in a project. */
function ferry(project: string, ...args: string[]) {
  const r = spawnSync(join(root, 'bin', 'ferry'), args, { cwd: project, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

before(() => {
  // The per-host vm.args each host keeps outside the release, as an operator would place it.
  for (const host of prods) {
    mkdirSync(onHost(host, '/opt/hello-node'), { recursive: true });
    writeFileSync(onHost(host, '/opt/hello-node/vm.args'), `## ${host}'s own arguments\n-name ${nodeOf(host)}\n+K true\n`);
  }
  writeFileSync(cookieFile, 'cluster_cookie_from_the_worker\n', { mode: 0o600 });
  cluster = exampleProject(
    env,
    testConfig(
      env,
      `DELIVER_TO="/opt/ferry-cluster"
PRODUCTION_NODE_NAMES="${prods.map(nodeOf).join(' ')}"
LINK_VM_ARGS="/opt/hello-node/vm.args"
COOKIE_FILE="${cookieFile}"
PRODUCTION_CLUSTER=true
PRODUCTION_CLUSTER_TIMEOUT=15000
`,
    ),
  );
  missing = exampleProject(
    env,
    testConfig(env, `PRODUCTION_HOSTS="${env.host('other')}"\nDELIVER_TO="/opt/ferry-missing"\nLINK_SYS_CONFIG="/opt/no-such/sys.config"\n`),
  );
  worker = spawn(join(root, 'bin', 'ferry'), ['worker'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FERRY_LOG_LEVEL: 'warn' } });
  worker.stderr?.on('data', (d: Buffer) => process.stderr.write(`[worker] ${d.toString()}`));
});

after(async () => {
  if (cluster) ferry(cluster, 'stop', 'production');
  worker.kill('SIGTERM');
  await new Promise((r) => worker.once('exit', r));
});

test('a 3-node cluster deployed with per-node vm.args links and sync_nodes_optional: each node sees the other two', () => {
  const build = ferry(cluster, 'build', 'release', '--tag=0.1.0', '--skip-existing');
  assert.equal(build.code, 0, build.out + build.err);
  const deploy = ferry(cluster, 'deploy', 'release', 'to', 'production', '--version=0.1.0', '--start-deploy');
  assert.equal(deploy.code, 0, deploy.out + deploy.err);

  for (const host of prods) {
    const rel = onHost(host, '/opt/ferry-cluster/hello/releases/0.1.0');
    assert.equal(readlinkSync(join(rel, 'vm.args')), '/opt/hello-node/vm.args', `${host}: releases/0.1.0/vm.args links to the host's file`);
    assert.equal(existsSync(join(rel, 'vm.args.src')), false);
    const others = prods.filter((p) => p !== host).map((p) => `'${nodeOf(p)}'`);
    assert.equal(
      readFileSync(onHost(host, '/opt/ferry-cluster/hello/ferry/vm.args'), 'utf8'),
      '-args_file /opt/hello-node/vm.args\n-setcookie cluster_cookie_from_the_worker\n' +
        `-kernel sync_nodes_optional "[${others.join(',')}]"\n-kernel sync_nodes_timeout 15000\n`,
    );
    const cookie = onHost(host, '/opt/ferry-cluster/hello/ferry/cookie');
    assert.equal(readFileSync(cookie, 'utf8'), 'cluster_cookie_from_the_worker');
    assert.equal(lstatSync(cookie).mode & 0o777, 0o400);
  }

  const r = ferry(cluster, '--json', 'ping', 'production', '--cluster');
  assert.equal(r.code, 0, r.out + r.err);
  const result = JSON.parse(r.out) as NodeCommandResult;
  assert.deepEqual(
    result.hosts.map((h) => [h.host, h.node, h.sees, h.missing]),
    prods.map((host) => [hostName(host), nodeOf(host), prods.filter((p) => p !== host).map(nodeOf).sort(), []]),
  );

  const table = ferry(cluster, 'ping', 'production', '--cluster');
  assert.equal(table.code, 0, table.out + table.err);
  assert.match(table.out, /^cluster production: 3 nodes, every link up\n/);
  for (const host of prods) assert.match(table.out, new RegExp(`✓ ${nodeOf(host).replaceAll('.', '\\.')}\\s+\\S+@127\\.0\\.0\\.1, \\S+@127\\.0\\.0\\.1\\n`));
});

test('ferry ping --cluster flags the links a stopped node leaves missing and exits 1', () => {
  const stop = ferry(cluster, 'stop', 'production', `--host=${hostName('prod3')}`);
  assert.equal(stop.code, 0, stop.out + stop.err);
  const r = ferry(cluster, '--json', 'ping', 'production', '--cluster');
  assert.equal(r.code, 1, r.out + r.err);
  const hosts = (JSON.parse(r.out) as NodeCommandResult).hosts;
  assert.deepEqual(hosts[0]!.missing, [nodeOf('prod3')]);
  assert.deepEqual(hosts[0]!.sees, [nodeOf('prod2')]);
  assert.match(hosts[2]!.error ?? '', /is not running/);
  const table = ferry(cluster, 'ping', 'production', '--cluster');
  assert.match(table.out, new RegExp(`✗ ${nodeOf('prod1').replaceAll('.', '\\.')}\\s+${nodeOf('prod2').replaceAll('.', '\\.')}\\s+MISSING ${nodeOf('prod3').replaceAll('.', '\\.')}`));
});

test('a LINK_SYS_CONFIG that does not exist on the host fails the deploy naming host and path; nothing is started', () => {
  const build = ferry(missing, 'build', 'release', '--tag=0.1.0', '--skip-existing');
  assert.equal(build.code, 0, build.out + build.err);
  const r = ferry(missing, 'deploy', 'release', 'to', 'production', '--version=0.1.0', '--start-deploy');
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.out + r.err, new RegExp(`${env.hostRe('other')}: LINK_SYS_CONFIG /opt/no-such/sys\\.config does not exist on the host`));
  const sysConfig = onHost('other', '/opt/ferry-missing/hello/releases/0.1.0/sys.config');
  assert.equal(lstatSync(sysConfig).isSymbolicLink(), false, 'the release keeps its own sys.config');
  const ping = ferry(missing, '--json', 'ping', 'production');
  assert.equal(ping.code, 1);
  assert.deepEqual((JSON.parse(ping.out) as NodeCommandResult).hosts.map((h) => h.running), [false]);
});
