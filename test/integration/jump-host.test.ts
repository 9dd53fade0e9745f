import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadDeliveryConfig } from '../../client/config-file';
import { buildRequest, deployRequest, nodeCommandRequest } from '../../client/requests';
import { defaultSshAuth, openSshArgv, SshPool } from '../../activities/ssh/ssh-pool';
import type { DeliveryConfig } from '../../core/config/schema';
import { HostKeyError, HostUnreachableError } from '../../core/domain/errors';
import type { SshTarget } from '../../core/domain/host';
import type { DeployStatus, NodeCommandResult } from '../../core/domain/requests';
import { exampleProject, startWorker, testAuth, testConfig, testEnv } from '../support/env';
import { project } from '../support/project';

const env = testEnv();
const root = join(__dirname, '..', '..');
// Two hosts of this test's own, after the ones scripts/with-test-env.sh starts: jump (reachable) and inner (only through jump).
const jumpPort = Math.max(...['build', 'prod1', 'prod2', 'prod3', 'other'].map(env.port)) + 1;
const script = (cmd: string) =>
  execFileSync(join(root, 'scripts', 'jump-hosts.sh'), ['--jump-port', String(jumpPort), '--inner-port', String(jumpPort + 1), cmd], {
    encoding: 'utf8',
    env: { ...process.env, FERRY_STATE: env.state },
  });
const where = Object.fromEntries(script('env').trim().split('\n').map((l) => l.split('=') as [string, string]));
const jump = { name: `${where.JUMP_ADDRESS}:${where.JUMP_PORT}`, address: where.JUMP_ADDRESS!, port: Number(where.JUMP_PORT), user: 'root' };
const inner: SshTarget = {
  name: `${where.INNER_ADDRESS}:${where.INNER_PORT}`,
  address: where.INNER_ADDRESS!,
  port: Number(where.INNER_PORT),
  user: 'root',
  jump: [jump],
};
const innerRoot = join(env.state, 'jump-hosts', 'inner', 'root');

let w: Awaited<ReturnType<typeof startWorker>> | undefined;
let config: DeliveryConfig | undefined;
let projectDir: string;

before(() => script('start'));
after(async () => {
  try {
    if (w && config) {
      await w.client.workflow
        .execute('nodeCommand', { taskQueue: w.taskQueue, workflowId: 'it-jump-stop', args: [nodeCommandRequest(config, 'production', 'stop')] })
        .catch(() => undefined);
    }
    await w?.stop();
  } finally {
    script('stop');
  }
});

/** Whether a plain TCP connection from this machine reaches address:port (the error code when not). */
const tcp = (address: string, port: number) =>
  new Promise<string>((resolve) => {
    const s = new Socket();
    s.setTimeout(5000, () => (s.destroy(), resolve('timeout')));
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    s.connect(port, address, () => (s.destroy(), resolve('open')));
  });

test('inner is reachable only through jump: a direct connection fails, the jump host accepts one', async () => {
  assert.match(await tcp(inner.address, inner.port), /^(EHOSTUNREACH|ENETUNREACH)$/);
  assert.equal(await tcp(jump.address, jump.port), 'open');
  const pool = new SshPool(testAuth(env));
  try {
    const direct = { ...inner };
    delete direct.jump;
    await assert.rejects(pool.run(direct, ['true']), HostUnreachableError);
  } finally {
    await pool.close();
  }
});

test('through the jump host: commands run on inner, SFTP uploads land there, one handshake per host', async () => {
  const pool = new SshPool(testAuth(env));
  try {
    const r = await pool.run(inner, ['sh', '-c', 'ip -4 -o addr show | grep -c "$1"', 'ip', `${inner.address}/`]);
    assert.equal(r.stdout.trim(), '1', 'the command ran in the namespace that holds the inner address');
    const file = join(project({ 'blob.bin': 'x'.repeat(300_000) }), 'blob.bin');
    const sent = await pool.putFile(inner, file, '/opt/jump-upload.bin');
    assert.equal(sent, createHash('sha256').update(readFileSync(file)).digest('hex'));
    assert.equal(createHash('sha256').update(readFileSync(join(innerRoot, 'jump-upload.bin'))).digest('hex'), sent);
    await pool.run(inner, ['rm', '-f', '/opt/jump-upload.bin']);
    assert.equal(pool.handshakes.get(`root@${inner.name}`), 1);
    assert.equal(pool.handshakes.get(`root@${jump.name}`), 1);
  } finally {
    await pool.close();
  }
});

test("the jump host's own key is checked against known_hosts: unknown there, nothing reaches inner", async () => {
  const kh = join(project(), 'known_hosts');
  writeFileSync(kh, readFileSync(env.knownHosts, 'utf8').split('\n').filter((l) => !l.startsWith(`[${jump.address}]:${jump.port} `)).join('\n'));
  const pool = new SshPool({ ...testAuth(env), knownHostsFile: kh });
  const innerLogins = () => (readFileSync(join(env.state, 'jump-hosts', 'inner', 'sshd.log'), 'utf8').match(/Accepted publickey/g) ?? []).length;
  const before = innerLogins();
  try {
    await assert.rejects(pool.run(inner, ['true']), (e: unknown) => e instanceof HostKeyError && e.message.startsWith(`${jump.name}: host key is not in ${kh}`));
  } finally {
    await pool.close();
  }
  assert.equal(innerLogins(), before);
});

test('~/.ssh/config is read: an alias gives HostName, Port, IdentityFile, UserKnownHostsFile and ProxyJump', async () => {
  const home = project();
  mkdirSync(join(home, '.ssh'));
  copyFileSync(env.identity, join(home, '.ssh', 'ferry_key'));
  copyFileSync(env.knownHosts, join(home, '.ssh', 'hosts_known'));
  writeFileSync(
    join(home, '.ssh', 'config'),
    [
      'Host prod-alias',
      '  HostName 127.0.0.1',
      `  Port ${env.port('prod1')}`,
      'Host inner-alias',
      `  HostName ${inner.address}`,
      `  Port ${inner.port}`,
      `  ProxyJump root@${jump.address}:${jump.port}`,
      'Host *',
      '  IdentityFile ~/.ssh/ferry_key',
      '  IdentitiesOnly yes',
      '  UserKnownHostsFile %d/.ssh/hosts_known',
      '  ConnectTimeout 7',
    ].join('\n'),
  );
  const oldHome = process.env.HOME;
  process.env.HOME = home;
  let auth;
  try {
    // What a worker whose HOME is `home` uses: no FERRY_SSH_* overrides, no agent.
    auth = defaultSshAuth({ HOME: home });
    assert.equal(auth.sshConfigFile, join(home, '.ssh', 'config'));
    const pool = new SshPool(auth);
    try {
      const alias = (name: string): SshTarget => ({ name, address: name, port: 22, user: 'root', portUnset: true });
      assert.equal((await pool.run(alias('prod-alias'), ['echo', 'ok'])).stdout, 'ok\n');
      assert.equal(pool.handshakes.get('root@prod-alias'), 1);
      assert.match((await pool.run(alias('inner-alias'), ['sh', '-c', 'ip -4 -o addr show'])).stdout, new RegExp(inner.address.replaceAll('.', '\\.')));
      // A port the project wrote wins over the config's Port: 127.0.0.1:1 refuses.
      await assert.rejects(pool.run({ ...alias('prod-alias'), port: 1, portUnset: undefined }, ['true']), HostUnreachableError);
    } finally {
      await pool.close();
    }
    const none = new SshPool({ ...auth, sshConfigFile: 'none' });
    try {
      await assert.rejects(none.run({ name: 'prod-alias', address: 'prod-alias', port: 22, user: 'root', portUnset: true }, ['true']), HostUnreachableError);
    } finally {
      await none.close();
    }
  } finally {
    process.env.HOME = oldHome;
  }
});

test('a release is built, then deployed and started on a host behind PRODUCTION_SSH_JUMP by the worker', async () => {
  w = await startWorker(env, 'it-jump');
  projectDir = exampleProject(
    env,
    testConfig(env, `PRODUCTION_HOSTS="${inner.address}:${inner.port}"\nPRODUCTION_SSH_JUMP="root@${jump.address}:${jump.port}"\nNODE_NAME='hello@{host}'\n`),
  );
  config = await loadDeliveryConfig({ cwd: projectDir });
  assert.deepEqual(config.environments.production?.hosts[0]?.jump, [jump]);
  const run = <T>(type: string, id: string, args: unknown[]) => w!.client.workflow.execute(type, { taskQueue: w!.taskQueue, workflowId: id, args }) as Promise<T>;
  await run('buildRelease', 'it-jump-build', [buildRequest(config, { tag: '0.1.0', skipExisting: true })]);
  const status = await run<DeployStatus>('deployRelease', 'it-jump-deploy', [deployRequest(config, 'production', { version: '0.1.0', startDeploy: true })]);
  assert.equal(status.phase, 'done');
  assert.deepEqual(Object.values(status.hosts).map((h) => [h.step, h.version]), [['done', '0.1.0']]);
  const onHost = readFileSync(join(innerRoot, 'ferry', 'hello', 'releases', '0.1.0', 'hello.tar.gz'));
  assert.equal(createHash('sha256').update(onHost).digest('hex'), status.release!.sha256);
  const versions = await run<NodeCommandResult>('nodeCommand', 'it-jump-version', [nodeCommandRequest(config, 'production', 'version')]);
  assert.deepEqual(versions.hosts.map((h) => [h.ok, h.version]), [[true, '0.1.0']]);
});

test('the system ssh command line the source push uses reaches inner through jump too (nested ProxyCommand)', () => {
  const { argv, route } = openSshArgv(inner, testAuth(env));
  assert.ok(argv.some((a) => a.startsWith('ProxyCommand=ssh ')));
  const out = execFileSync(argv[0]!, [...argv.slice(1), '-p', String(route.port), `root@${route.address}`, 'echo', 'via-openssh'], { encoding: 'utf8' });
  assert.equal(out, 'via-openssh\n');
});

test('ferry doctor shows the jump host hop and the login through it', () => {
  const r = spawnSync(join(root, 'bin', 'ferry'), ['doctor', 'production'], { cwd: projectDir, encoding: 'utf8' });
  const host = `production ${inner.name}`.replaceAll('.', '\\.');
  assert.match(r.stdout, new RegExp(`✓ ${host}\\s+jump host ${jump.name.replaceAll('.', '\\.')} reachable: `));
  assert.match(r.stdout, new RegExp(`✓ ${host}\\s+route: through root@${jump.name.replaceAll('.', '\\.')} to ${inner.address.replaceAll('.', '\\.')}:${inner.port}`));
  assert.match(r.stdout, new RegExp(`✓ ${host}\\s+host key and login: logged in as root`));
});

test('ferry trust reaches a host behind the jump host: the jump host key first, then the inner one through it', () => {
  const knownHosts = join(project(), 'known_hosts');
  writeFileSync(knownHosts, '');
  const dir = exampleProject(
    env,
    testConfig(env, `PRODUCTION_HOSTS="${inner.address}:${inner.port}"\nPRODUCTION_SSH_JUMP="root@${jump.address}:${jump.port}"\nSSH_KNOWN_HOSTS="${knownHosts}"\n`),
  );
  const trust = (...flags: string[]) => spawnSync(join(root, 'bin', 'ferry'), ['trust', 'production', ...flags], { cwd: dir, encoding: 'utf8' });
  const fingerprint = 'ssh-ed25519 SHA256:[A-Za-z0-9+/]{43}';
  const esc = (s: string) => s.replaceAll('.', '\\.');

  // Without a terminal or --yes: the jump host is shown, nothing is added, and nothing is tried behind it.
  const unconfirmed = trust();
  assert.equal(unconfirmed.status, 2, unconfirmed.stdout + unconfirmed.stderr);
  assert.match(unconfirmed.stdout, new RegExp(`^\\? ${esc(jump.name)} \\(jump host\\)\\s+${fingerprint} is new\\n$`));
  assert.match(unconfirmed.stderr, /nothing added .*confirm with --yes/);
  assert.equal(readFileSync(knownHosts, 'utf8'), '');

  const confirmed = trust('--yes');
  assert.equal(confirmed.status, 0, confirmed.stdout + confirmed.stderr);
  assert.match(confirmed.stdout, new RegExp(`^\\? ${esc(jump.name)} \\(jump host\\)\\s+${fingerprint} is new\\nadded 1 key`));
  assert.match(confirmed.stdout, new RegExp(`\\n\\? ${esc(inner.name)}\\s+${fingerprint} is new\\nadded 1 key\\(s\\) to ${esc(knownHosts)}\\n$`));
  const real = readFileSync(env.knownHosts, 'utf8').split('\n');
  const added = readFileSync(knownHosts, 'utf8').trim().split('\n');
  assert.deepEqual(
    added.map((l) => l.split(' ')[0]),
    [`[${jump.address}]:${jump.port}`, `[${inner.address}]:${inner.port}`],
  );
  for (const line of added) assert.ok(real.includes(line), `${line} is the host's real key`);

  const again = trust('--yes');
  assert.equal(again.status, 0, again.stdout + again.stderr);
  assert.equal((again.stdout.match(/already in/g) ?? []).length, 2);
});
