import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { StoredRelease } from '../../core/domain/release';
import type { DeployStatus, NodeCommandResult } from '../../core/domain/requests';
import { ferry, spawnWorker, stopWorker } from '../support/cli';
import { exampleProject, ownEpmd, setHostEnv, testEnv } from '../support/env';

/**
 * Node names through the `ferry` CLI, on real nodes: the release's own `-name` and `-sname` (no NODE_NAME) and Ferry's
 * NODE_NAME in the release's `-sname` mode, each through every node command; a mix release keeping mix's own naming;
 * and hosts that share one address, whose NODE_NAME clash stops only the commands that reach their nodes.
 * (Ferry's NODE_NAME with `-name` is what every other e2e and integration test uses.)
 */

const env = testEnv();
const shortHost = hostname().split('.')[0]!;
const addr = (h: string) => `${env.host(h)}`;
let worker: ChildProcess;
/** Hosts switched to their own epmd by a test; the `after` hook makes them plain hosts again. */
const ownEpmdHosts = ['prod1', 'prod2'];

before(() => {
  // This file's own stores start empty, as the shared one does on every run.
  for (const store of ['store-naming-sname', 'store-naming-name']) rmSync(join(env.state, store), { recursive: true, force: true });
  worker = spawnWorker('warn');
});

after(async () => {
  setHostEnv(env, ownEpmdHosts, () => []);
  await stopWorker(worker);
});

let snameRepoDir: string | undefined;
/**
 * A copy of the example repository whose tags 0.1.0 and 0.2.0 name the node with `-sname hello` in vm.args.src; made
 * once, so that projects of it share builds (`--skip-existing` goes by git revision).
 */
function snameRepo(): string {
  if (snameRepoDir) return snameRepoDir;
  const dir = mkdtempSync(join(env.state, 'repo-sname-'));
  cpSync(env.exampleRepo, dir, { recursive: true });
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=Ferry', '-c', 'user.email=ferry@example.invalid', ...args], { encoding: 'utf8' });
  const branch = git('rev-parse', '--abbrev-ref', 'HEAD').trim();
  for (const tag of ['0.1.0', '0.2.0']) {
    git('checkout', '-q', tag);
    writeFileSync(join(dir, 'config', 'vm.args.src'), '## the node is named by the release, in short-name mode\n-sname hello\n-setcookie ferry_hello_cookie\n');
    git('commit', '-qam', `vm.args.src: -sname (${tag})`);
    git('tag', '-f', tag);
  }
  git('checkout', '-q', branch);
  snameRepoDir = dir;
  return dir;
}

/**
 * A project on the test hosts: PRODUCTION_HOSTS `hosts`, its own deploy root, `extra` lines, and the store `store`
 * under the test state (projects of one repository share one, and so their builds).
 */
function project(name: string, store: string, hosts: string[], extra: string, repo = env.exampleRepo, app = 'hello', hostName = addr): string {
  return exampleProject(
    env,
    `APP="${app}"
BUILD_HOST="${env.host('build')}"
BUILD_USER="root"
BUILD_AT="/opt/ferry-build/${name}"
PRODUCTION_HOSTS="${hosts.map(hostName).join(' ')}"
PRODUCTION_USER="root"
DELIVER_TO="/opt/ferry-${name}"
RELEASE_STORE="${join(env.state, store)}"
SSH_KNOWN_HOSTS="${env.knownHosts}"
SSH_IDENTITY_FILE="${env.identity}"
${extra}`,
    repo,
  );
}

/** Runs the CLI and asserts its exit code, showing what it printed when that fails. */
function ok(dir: string, code: number, ...args: string[]) {
  const r = ferry(dir, ...args);
  assert.equal(r.code, code, `ferry ${args.join(' ')}:\n${r.out}${r.err}`);
  return r;
}

/** How a project's nodes are named: the vm.args line (`-name` or `-sname` and its name), and the name the node runs under. */
interface Naming {
  mode: '-name' | '-sname';
  inVmArgs: (host: string) => string;
  node: (host: string) => string;
}

/**
 * Every node command on a relx project's production hosts: deploy and start 0.1.0 (checking the name line of each
 * host's vm.args), ping, version, stop, start, restart, migrations (run on the node, which tells its name), a hot
 * upgrade to 0.2.0 (same OS pid, or Ferry fails it), and `ping --cluster`, whose exit code and JSON it returns.
 */
function everyCommand(dir: string, name: string, hosts: string[], naming: Naming): { code: number | null; cluster: NodeCommandResult } {
  const onHosts = (out: string, what: string) => {
    for (const h of hosts) assert.match(out, new RegExp(`${addr(h).replaceAll('.', '\\.')}\\s+${what}`), out);
  };
  ok(dir, 0, 'build', 'release', '--tag=0.1.0', '--skip-existing');
  ok(dir, 0, 'deploy', 'release', 'to', 'production', '--version=0.1.0', '--start-deploy');
  for (const h of hosts) {
    const vmArgs = readFileSync(env.hostPath(h, `/opt/ferry-${name}/hello/ferry/vm.args`), 'utf8');
    assert.equal(vmArgs.split('\n').filter((l) => /^-s?name /.test(l)).join('\n'), `${naming.mode} ${naming.inVmArgs(h)}`, `${h}'s vm.args:\n${vmArgs}`);
  }
  onHosts(ok(dir, 0, 'ping', 'production').out, 'pong');
  onHosts(ok(dir, 0, 'version', 'production').out, '0\\.1\\.0');
  ok(dir, 0, 'stop', 'production');
  onHosts(ok(dir, 1, 'ping', 'production').out, '.* is not running');
  onHosts(ok(dir, 0, 'start', 'production').out, 'started');
  onHosts(ok(dir, 0, 'restart', 'production').out, 'restarted');
  // MIGRATE_COMMAND (atom_to_list(node())) runs on the node through the release script: it prints the node's name.
  const first = hosts[0]!;
  assert.match(ok(dir, 0, 'migrate', 'production').out, new RegExp(`migrate up on ${addr(first).replaceAll('.', '\\.')} \\(production\\):\\n\\s+"${naming.node(first)}"`));
  const stored = JSON.parse(ok(dir, 0, '--json', 'show', 'releases').out) as StoredRelease[];
  if (!stored.some((r) => r.type === 'upgrade' && r.version === '0.2.0')) ok(dir, 0, 'build', 'upgrade', '--from=0.1.0', '--to=0.2.0');
  const upgrade = JSON.parse(ok(dir, 0, '--json', 'deploy', 'upgrade', 'to', 'production', '--version=0.2.0').out) as DeployStatus;
  assert.deepEqual(Object.values(upgrade.hosts).map((p) => [p.step, p.version]), hosts.map(() => ['done', '0.2.0']));
  onHosts(ok(dir, 0, 'version', 'production').out, '0\\.2\\.0');
  const r = ferry(dir, '--json', 'ping', 'production', '--cluster');
  return { code: r.code, cluster: JSON.parse(r.out) as NodeCommandResult };
}

test("Ferry's NODE_NAME in the release's -sname mode: every command works, and the -sname nodes form one cluster", () => {
  const hosts = ['prod1', 'prod2', 'prod3'];
  const nodeOf = (h: string) => `hello_s${env.port(h)}@localhost`;
  const dir = project('sname-ferry', 'store-naming-sname', hosts, `NODE_NAME='hello_s{port}@localhost'\nPRODUCTION_CLUSTER=true\nMIGRATE_COMMAND='atom_to_list(node())'\n`, snameRepo());
  try {
    const { code, cluster } = everyCommand(dir, 'sname-ferry', hosts, { mode: '-sname', inVmArgs: nodeOf, node: nodeOf });
    assert.equal(code, 0, JSON.stringify(cluster));
    assert.deepEqual(
      cluster.hosts.map((h) => [h.host, h.node, h.sees, h.missing]),
      hosts.map((h) => [addr(h), nodeOf(h), hosts.filter((o) => o !== h).map(nodeOf).sort(), []]),
    );
  } finally {
    ferry(dir, 'stop', 'production');
  }
});

test("the release's own -sname, the same name on two hosts with their own epmd: every command works; ping --cluster names the clash", () => {
  setHostEnv(env, ownEpmdHosts, ownEpmd(env));
  const dir = project('sname-release', 'store-naming-sname', ownEpmdHosts, `MIGRATE_COMMAND='atom_to_list(node())'\n`, snameRepo());
  try {
    const { code, cluster } = everyCommand(dir, 'sname-release', ownEpmdHosts, { mode: '-sname', inVmArgs: () => 'hello', node: () => `hello@${shortHost}` });
    // Each node gives its own name: the same on both, which one cluster cannot hold.
    assert.equal(code, 1);
    assert.deepEqual(cluster.hosts.map((h) => [h.node, h.sees, h.ok]), [[`hello@${shortHost}`, [], false], [`hello@${shortHost}`, [], false]]);
    assert.match(cluster.hosts[0]!.error ?? '', new RegExp(`${addr('prod1')} and ${addr('prod2')} both run node hello@${shortHost}: nodes of one cluster need distinct names`));
  } finally {
    ferry(dir, 'stop', 'production');
  }
});

test("the release's own -name, the same name on two hosts with their own epmd: every command works", () => {
  setHostEnv(env, ownEpmdHosts, ownEpmd(env));
  const dir = project('name-release', 'store-naming-name', ownEpmdHosts, `MIGRATE_COMMAND='atom_to_list(node())'\n`);
  try {
    const named = () => 'hello@127.0.0.1';
    const { code, cluster } = everyCommand(dir, 'name-release', ownEpmdHosts, { mode: '-name', inVmArgs: named, node: named });
    assert.equal(code, 1);
    assert.deepEqual(cluster.hosts.map((h) => h.node), ['hello@127.0.0.1', 'hello@127.0.0.1']);
  } finally {
    ferry(dir, 'stop', 'production');
  }
});

test("a mix release without NODE_NAME keeps mix's own naming (RELEASE_NODE=hello_mix, -sname) on two hosts", () => {
  setHostEnv(env, ownEpmdHosts, ownEpmd(env));
  // The store the mix e2e test builds into: the same repository, so its build is reused.
  const dir = project('mix-release', 'store', ownEpmdHosts, '', env.exampleMixRepo, 'hello_mix');
  try {
    ok(dir, 0, 'build', 'release', '--tag=0.1.0', '--skip-existing');
    ok(dir, 0, 'deploy', 'release', 'to', 'production', '--version=0.1.0', '--start-deploy');
    assert.doesNotMatch(readFileSync(env.hostPath('prod1', '/opt/ferry-mix-release/hello_mix/ferry/vm.args'), 'utf8'), /^-s?name /m);
    assert.match(ok(dir, 0, 'version', 'production').out, /2 hosts ok/);
    ok(dir, 0, 'restart', 'production');
    assert.match(ok(dir, 0, 'migrate', 'production').out, /up 1 create_greetings/);
    const cluster = JSON.parse(ok(dir, 1, '--json', 'ping', 'production', '--cluster').out) as NodeCommandResult;
    assert.deepEqual(cluster.hosts.map((h) => h.node), [`hello_mix@${shortHost}`, `hello_mix@${shortHost}`]);
    ok(dir, 0, 'stop', 'production');
    assert.match(ok(dir, 1, 'ping', 'production').out, /is not running/);
  } finally {
    ferry(dir, 'stop', 'production');
  }
});

test('hosts that share one address: a NODE_NAME clash stops only the commands that reach those nodes, saying what to do', () => {
  // prod3 and other reached through one address, 127.0.0.1, at their own ports: port-forwarded machines.
  const dir = project('clash', 'store-naming-name', ['prod3', 'other'], `NODE_NAME='{app}@{host}'\nSTAGING_HOSTS="${env.gateway('build')}"\nSTAGING_USER="root"\n`, env.exampleRepo, 'hello', env.gateway);
  // Nothing here reaches production's nodes.
  ok(dir, 0, 'build', 'release', '--tag=0.1.0', '--skip-existing');
  assert.match(ok(dir, 0, 'show', 'releases').out, /0\.1\.0/);
  ok(dir, 0, 'download', 'release', '0.1.0', join(dir, 'downloaded.tar.gz'));
  assert.match(ok(dir, 1, 'ping', 'staging').out, /the node is not running|node hello@127\.0\.0\.1 is not running/);
  for (const args of [['ping', 'production'], ['deploy', 'release', 'to', 'production', '--version=0.1.0']]) {
    const r = ok(dir, 2, ...args);
    assert.match(
      r.err,
      new RegExp(
        `NODE_NAME: production hosts ${env.gateway('prod3').replaceAll('.', '\\.')} and ${env.gateway('other').replaceAll('.', '\\.')} both get node name "hello@127\\.0\\.0\\.1": ` +
          'make it unique per host.*port-forwarded machines.*PRODUCTION_NODE_NAMES',
      ),
    );
  }
});
