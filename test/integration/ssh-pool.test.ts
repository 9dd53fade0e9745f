import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SshPool } from '../../activities/ssh/ssh-pool';
import { toShell } from '../../core/commands/shell';
import { loginCount, sshTarget, testAuth, testEnv } from '../support/env';

const env = testEnv();
const pool = new SshPool(testAuth(env));
after(() => pool.close());

test('runs several commands over one handshake per host', async () => {
  const host = sshTarget(env, 'prod1');
  const before = loginCount(env, 'prod1');
  for (let i = 0; i < 3; i++) assert.equal((await pool.run(host, ['echo', `hi ${i}`])).stdout, `hi ${i}\n`);
  assert.equal(loginCount(env, 'prod1') - before, 1);
});

test('hostile strings reach the remote program unchanged and are never executed', async () => {
  const host = sshTarget(env, 'prod1');
  const marker = '/opt/pwned';
  const values = ["a b", "it's", '$(touch /opt/pwned)', '`touch /opt/pwned`', 'x; touch /opt/pwned', '"; touch /opt/pwned; "', '\\n', 'a\nb', '*'];
  for (const v of values) {
    const r = await pool.run(host, ['printf', '%s', v]);
    assert.equal(r.stdout, v);
  }
  assert.equal((await pool.run(host, toShell(['test', '-e', marker]), { allowFailure: true })).exitCode, 1);
});

test('a non-zero exit is a RemoteCommandError with the output', async () => {
  await assert.rejects(pool.run(sshTarget(env, 'prod1'), 'echo broken >&2; exit 3'), {
    name: 'RemoteCommandError',
    message: /exited with 3: broken/,
  });
});

test('each host sees its own /opt', async () => {
  await pool.run(sshTarget(env, 'prod1'), 'echo one > /opt/which');
  await pool.run(sshTarget(env, 'prod2'), 'echo two > /opt/which');
  assert.equal(readFileSync(join(env.hostRoot('prod1'), 'which'), 'utf8'), 'one\n');
  assert.equal(readFileSync(join(env.hostRoot('prod2'), 'which'), 'utf8'), 'two\n');
});

test('each host has its own /tmp, /srv and /etc: a file written on one is absent on another and on this machine', async () => {
  const files = ['/tmp', '/srv', '/etc'].map((d) => `${d}/ferry-isolation-${process.pid}`);
  const exists = async (host: string, file: string) => (await pool.run(sshTarget(env, host), toShell(['test', '-e', file]), { allowFailure: true })).exitCode === 0;
  try {
    for (const f of files) await pool.run(sshTarget(env, 'prod1'), toShell(['sh', '-c', 'echo "$1" > "$1"', 'write', f]));
    for (const f of files) {
      assert.equal(await exists('prod1', f), true, `prod1 sees its ${f}`);
      assert.equal(readFileSync(env.hostPath('prod1', f), 'utf8'), `${f}\n`, `the test runner reads prod1's ${f} through hostPath`);
      assert.equal(await exists('prod2', f), false, `prod2 does not see prod1's ${f}`);
      assert.equal(existsSync(env.hostPath('prod2', f)), false);
      assert.equal(existsSync(f), false, `this machine does not see prod1's ${f}`);
    }
    // The host's /etc is a whole copy: logins and name lookups still work there.
    assert.equal((await pool.run(sshTarget(env, 'prod1'), 'getent passwd root | cut -d: -f1')).stdout, 'root\n');
  } finally {
    for (const f of files) rmSync(env.hostPath('prod1', f), { force: true });
  }
});

test('putFile and getFile stream a file and report its sha256', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-sftp-'));
  const data = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
  writeFileSync(join(dir, 'in'), data);
  const sha = createHash('sha256').update(data).digest('hex');
  const host = sshTarget(env, 'prod2');
  assert.equal(await pool.putFile(host, join(dir, 'in'), '/opt/blob'), sha);
  assert.equal((await pool.run(host, ['sha256sum', '/opt/blob'])).stdout.split(' ')[0], sha);
  assert.equal(await pool.getFile(host, '/opt/blob', join(dir, 'out')), sha);
  assert.deepEqual(readFileSync(join(dir, 'out')), data);
});

test('a host missing from known_hosts is refused before login', async () => {
  const empty = join(mkdtempSync(join(tmpdir(), 'ferry-kh-')), 'known_hosts');
  writeFileSync(empty, '');
  const strict = new SshPool({ ...testAuth(env), knownHostsFile: empty });
  const before = loginCount(env, 'other');
  await assert.rejects(strict.run(sshTarget(env, 'other'), 'true'), { name: 'HostKeyError', message: /is not in .*known_hosts/ });
  assert.equal(loginCount(env, 'other'), before);
  await strict.close();
});

test('a host whose key differs from known_hosts is refused as a mismatch', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'ferry-kh-')), 'known_hosts');
  // Give "other" the key of prod1: what a reinstalled host or a man in the middle looks like.
  const lines = readFileSync(env.knownHosts, 'utf8').split('\n');
  const prod1Key = lines.find((l) => l.startsWith(`[${env.addr('prod1')}]:${env.port('prod1')} `))!.split(' ').slice(1).join(' ');
  writeFileSync(file, `[${env.addr('other')}]:${env.port('other')} ${prod1Key}\n`);
  const strict = new SshPool({ ...testAuth(env), knownHostsFile: file });
  await assert.rejects(strict.run(sshTarget(env, 'other'), 'true'), { name: 'HostKeyError', message: /does not match/ });
  await strict.close();
});

test('a closed port is a retryable HostUnreachableError', async () => {
  const target = { name: '127.0.0.1:1', address: '127.0.0.1', port: 1, user: 'root' };
  await assert.rejects(pool.run(target, 'true'), { name: 'HostUnreachableError' });
});

test('a key the host does not accept is an AuthenticationError', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-key-'));
  const { execFileSync } = await import('node:child_process');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id')]);
  const stranger = new SshPool({ ...testAuth(env), identityFiles: [join(dir, 'id')] });
  await assert.rejects(stranger.run(sshTarget(env, 'prod3'), 'true'), { name: 'AuthenticationError' });
  await stranger.close();
});
