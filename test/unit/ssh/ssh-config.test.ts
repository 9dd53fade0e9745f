import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveRoute, type SshAuth } from '../../../activities/ssh/ssh-pool';
import { readSshConfig } from '../../../activities/ssh/ssh-config';
import { InputError } from '../../../core/domain/errors';
import { parseSshTarget } from '../../../core/domain/host';
import { project } from '../../support/project';

const dir = project({
  config: [
    'Host web1',
    '  HostName 10.0.0.5',
    '  Port 2222',
    '  User ops',
    '  IdentityFile ~/.ssh/web_%h_%p_%r',
    '  ProxyJump bastion.example.com:2200',
    '  ConnectTimeout 3',
    '  UserKnownHostsFile /etc/ferry/known_hosts',
    '  IdentitiesOnly yes',
    'Host bastion.example.com',
    '  User jumper',
    'Host bad',
    '  ProxyJump not a host',
    'Match exec "touch /tmp/ferry-should-not-run"',
    '  User pwned',
  ].join('\n'),
});
const file = join(dir, 'config');
const auth: SshAuth = {
  knownHostsFile: '/home/w/.ssh/known_hosts',
  identityFiles: ['/home/w/.ssh/id_ed25519'],
  connectTimeoutMs: 10_000,
  sshConfigFile: file,
  defaultIdentities: true,
  defaultKnownHosts: true,
};

test('readSshConfig computes the first value of each setting for a host, with ~ and %-tokens (%r: the user Ferry logs in as) expanded', () => {
  const home = process.env.HOME;
  assert.deepEqual(readSshConfig(file, 'web1', { user: 'deploy' }), {
    hostName: '10.0.0.5',
    port: 2222,
    user: 'ops',
    identityFiles: [`${home}/.ssh/web_10.0.0.5_2222_deploy`],
    proxyJump: 'bastion.example.com:2200',
    connectTimeoutSeconds: 3,
    userKnownHostsFile: '/etc/ferry/known_hosts',
    identitiesOnly: true,
  });
  assert.deepEqual(readSshConfig(file, 'other', { user: 'deploy' }), {});
  assert.deepEqual(readSshConfig(join(dir, 'missing'), 'web1', { user: 'deploy' }), {});
});

test('the SSH config fills what the project left open; a host without a config entry keeps the defaults', () => {
  const route = resolveRoute(parseSshTarget('web1', 'deploy', 'h'), auth);
  assert.equal(route.address, '10.0.0.5');
  assert.equal(route.port, 2222);
  assert.equal(route.user, 'deploy', 'the user the project names wins over User');
  assert.equal(route.identitiesOnly, true);
  assert.equal(route.knownHostsFile, '/etc/ferry/known_hosts');
  assert.equal(route.connectTimeoutMs, 3000);
  assert.deepEqual(route.via, { name: 'bastion.example.com:2200', address: 'bastion.example.com', port: 2200, user: 'jumper', jump: [] });
  const plain = resolveRoute(parseSshTarget('web9', 'deploy', 'h'), auth);
  assert.deepEqual(plain, { name: 'web9', address: 'web9', port: 22, user: 'deploy', identityFiles: auth.identityFiles, identitiesOnly: false, knownHostsFile: auth.knownHostsFile, connectTimeoutMs: 10_000 });
});

test("the project's values win: port, jump (none too), identity file, timeout, known_hosts and key files it set", () => {
  const host = { ...parseSshTarget('web1:2201', 'deploy', 'h'), jump: [], identityFile: '/keys/web', connectTimeout: 9 };
  const route = resolveRoute(host, { ...auth, knownHostsFile: '/project/known_hosts', defaultKnownHosts: false });
  assert.equal(route.port, 2201);
  assert.equal(route.via, undefined);
  assert.deepEqual(route.identityFiles, ['/keys/web']);
  assert.equal(route.connectTimeoutMs, 9000);
  assert.equal(route.knownHostsFile, '/project/known_hosts');
  assert.equal(resolveRoute(parseSshTarget('web1', 'deploy', 'h'), { ...auth, identityFiles: ['/w/key'], defaultIdentities: false }).identityFiles[0], '/w/key');
});

test('a chain of jumps: the last hop is reached through the ones before it', () => {
  const host = { ...parseSshTarget('10.1.0.9', 'deploy', 'h'), jump: [{ name: 'a', address: 'a', port: 22, user: 'x' }, { name: 'b:2', address: 'b', port: 2 }] };
  const route = resolveRoute(host, { ...auth, sshConfigFile: 'none' });
  assert.deepEqual(route.via, { name: 'b:2', address: 'b', port: 2, user: 'deploy', jump: [{ name: 'a', address: 'a', port: 22, user: 'x' }] });
  assert.equal(resolveRoute(route.via!, auth).via?.name, 'a');
});

test('sshConfigFile none reads no file; a bad ProxyJump in the file is an input error naming it', () => {
  assert.equal(resolveRoute(parseSshTarget('web1', 'deploy', 'h'), { ...auth, sshConfigFile: 'none' }).address, 'web1');
  assert.throws(() => resolveRoute(parseSshTarget('bad', 'deploy', 'h'), auth), (e: Error) => e instanceof InputError && e.message.includes(`${file}: ProxyJump for bad`));
});
