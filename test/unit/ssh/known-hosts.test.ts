import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { knownHostsName, knownKeysFor } from '../../../activities/ssh/known-hosts';

let dir: string;
/** Real public keys made by ssh-keygen, as `type base64`; `a` and `b` are host keys, `ca` a CA key. */
const keys = { a: '', b: '', ca: '' };

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ferry-known-hosts-'));
  for (const name of Object.keys(keys) as (keyof typeof keys)[]) {
    const file = path.join(dir, `id_${name}`);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file]);
    keys[name] = readFileSync(`${file}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** A known_hosts file with these lines. */
function knownHosts(...lines: string[]): string {
  const file = path.join(dir, `known_hosts_${++files}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** What `knownKeysFor` returns for one of the keys above. */
const known = (k: keyof typeof keys, revoked = false) => {
  const [type = '', key = ''] = keys[k].split(' ');
  return { type, key, revoked };
};

test('knownHostsName is the address on port 22 and [address]:port otherwise', () => {
  assert.equal(knownHostsName('web1', 22), 'web1');
  assert.equal(knownHostsName('web1', 2222), '[web1]:2222');
  assert.equal(knownHostsName('[::1]', 2222), '[::1]:2222');
});

test('a plain host entry gives its key on port 22 only', () => {
  const file = knownHosts(`web1 ${keys.a}`);
  assert.deepEqual(knownKeysFor(file, 'web1', 22), [known('a')]);
  assert.deepEqual(knownKeysFor(file, 'web1', 2222), []);
  assert.deepEqual(knownKeysFor(file, 'web2', 22), []);
});

test('a [host]:port entry gives its key on that port only', () => {
  const file = knownHosts(`[127.0.0.1]:2231 ${keys.a}`);
  assert.deepEqual(knownKeysFor(file, '127.0.0.1', 2231), [known('a')]);
  assert.deepEqual(knownKeysFor(file, '127.0.0.1', 22), []);
  assert.deepEqual(knownKeysFor(file, '127.0.0.1', 2232), []);
});

test('a [host]:22 entry is not what OpenSSH looks up for port 22', () => {
  const file = knownHosts(`[web1]:22 ${keys.a}`);
  assert.deepEqual(knownKeysFor(file, 'web1', 22), []);
});

test('a bracketed IPv6 address on another port matches its [address]:port entry', () => {
  const file = knownHosts(`[::1]:2222 ${keys.a}`);
  assert.deepEqual(knownKeysFor(file, '[::1]', 2222), [known('a')]);
  assert.deepEqual(knownKeysFor(file, '::1', 2222), [known('a')]);
});

test(
  'a bracketed IPv6 address on port 22 matches the bare address OpenSSH writes',
  () => {
    const file = knownHosts(`::1 ${keys.a}`);
    assert.deepEqual(knownKeysFor(file, '[::1]', 22), [known('a')]);
  },
);

test('every name in a comma list matches', () => {
  const file = knownHosts(`web1,10.0.0.5,[web2]:2201 ${keys.a}`);
  assert.deepEqual(knownKeysFor(file, 'web1', 22), [known('a')]);
  assert.deepEqual(knownKeysFor(file, '10.0.0.5', 22), [known('a')]);
  assert.deepEqual(knownKeysFor(file, 'web2', 2201), [known('a')]);
  assert.deepEqual(knownKeysFor(file, 'web2', 22), []);
  assert.deepEqual(knownKeysFor(file, '10.0.0.50', 22), []);
});

test('* matches any run of characters and ? exactly one', () => {
  const file = knownHosts(`*.example.com ${keys.a}`, `web? ${keys.b}`);
  assert.deepEqual(knownKeysFor(file, 'a.example.com', 22), [known('a')]);
  assert.deepEqual(knownKeysFor(file, 'a.b.example.com', 22), [known('a')]);
  assert.deepEqual(knownKeysFor(file, 'example.com', 22), []);
  assert.deepEqual(knownKeysFor(file, 'web1', 22), [known('b')]);
  assert.deepEqual(knownKeysFor(file, 'web10', 22), []);
  assert.deepEqual(knownKeysFor(file, 'web', 22), []);
});

test('pattern characters other than * and ? match only themselves', () => {
  const file = knownHosts(`10.0.0.5 ${keys.a}`);
  assert.deepEqual(knownKeysFor(file, '10a0b0c5', 22), []);
});

test('a wildcard pattern can cover the ports of a host', () => {
  const file = knownHosts(`[127.0.0.1]:* ${keys.a}`);
  assert.deepEqual(knownKeysFor(file, '127.0.0.1', 2231), [known('a')]);
  assert.deepEqual(knownKeysFor(file, '127.0.0.1', 22), []);
});

test(
  'host names match regardless of case, as OpenSSH matches them',
  () => {
    const file = knownHosts(`Web1.Example.com ${keys.a}`);
    assert.deepEqual(knownKeysFor(file, 'web1.example.com', 22), [known('a')]);
    assert.deepEqual(knownKeysFor(file, 'WEB1.example.com', 22), [known('a')]);
  },
);

test('a negated pattern excludes a host even when another pattern on the line matches it', () => {
  const file = knownHosts(`*.example.com,!bad.example.com ${keys.a}`);
  assert.deepEqual(knownKeysFor(file, 'good.example.com', 22), [known('a')]);
  assert.deepEqual(knownKeysFor(file, 'bad.example.com', 22), []);
});

test('a line of only negated patterns matches no host', () => {
  const file = knownHosts(`!web1 ${keys.a}`);
  assert.deepEqual(knownKeysFor(file, 'web2', 22), []);
  assert.deepEqual(knownKeysFor(file, 'web1', 22), []);
});

test('hashed entries written by ssh-keygen -H match their host and port', () => {
  const file = knownHosts(`web1 ${keys.a}`, `[127.0.0.1]:2231 ${keys.b}`);
  execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
  const text = readFileSync(file, 'utf8');
  assert.equal(text.includes('web1') || text.includes('127.0.0.1'), false, 'ssh-keygen -H left a plain name');
  assert.match(text, /^\|1\|/);
  assert.deepEqual(knownKeysFor(file, 'web1', 22), [known('a')]);
  assert.deepEqual(knownKeysFor(file, '127.0.0.1', 2231), [known('b')]);
  assert.deepEqual(knownKeysFor(file, '127.0.0.1', 22), []);
  assert.deepEqual(knownKeysFor(file, 'web2', 22), []);
});

test('a hashed entry is HMAC-SHA1 of the looked-up name, keyed with the salt', () => {
  const salt = randomBytes(20);
  const hash = createHmac('sha1', salt).update('[web1]:2222').digest('base64');
  const file = knownHosts(`|1|${salt.toString('base64')}|${hash} ${keys.a}`);
  assert.deepEqual(knownKeysFor(file, 'web1', 2222), [known('a')]);
  assert.deepEqual(knownKeysFor(file, 'web1', 22), []);
});

test('every key for a host is returned, in file order', () => {
  const file = knownHosts(`web1 ${keys.a}`, `web2 ${keys.ca}`, `web1,web3 ${keys.b}`);
  assert.deepEqual(knownKeysFor(file, 'web1', 22), [known('a'), known('b')]);
});

test('a @revoked entry is returned marked revoked', () => {
  const file = knownHosts(`@revoked web1 ${keys.a}`, `web1 ${keys.b}`);
  assert.deepEqual(knownKeysFor(file, 'web1', 22), [known('a', true), known('b')]);
});

test('a @cert-authority entry is ignored', () => {
  const file = knownHosts(`@cert-authority *.example.com ${keys.ca}`, `web1.example.com ${keys.a}`);
  assert.deepEqual(knownKeysFor(file, 'web1.example.com', 22), [known('a')]);
  assert.deepEqual(knownKeysFor(file, 'web2.example.com', 22), []);
});

test('comments, blank lines, indentation and key comments do not get in the way', () => {
  const file = knownHosts('# known hosts of the test hosts', '', '   ', `  web1   ${keys.a}   ops@laptop`, `# web1 ${keys.b}`, '\tweb2');
  assert.deepEqual(knownKeysFor(file, 'web1', 22), [known('a')]);
  assert.deepEqual(knownKeysFor(file, 'web2', 22), []);
});

test('a file with CRLF line ends is read like one with LF', () => {
  const file = path.join(dir, 'known_hosts_crlf');
  writeFileSync(file, `# hosts\r\nweb1 ${keys.a}\r\n`);
  assert.deepEqual(knownKeysFor(file, 'web1', 22), [known('a')]);
});

test('a missing known_hosts file holds no keys', () => {
  assert.deepEqual(knownKeysFor(path.join(dir, 'does-not-exist'), 'web1', 22), []);
});

test('a known_hosts path that cannot be read as a file throws', () => {
  assert.throws(() => knownKeysFor(dir, 'web1', 22), { code: 'EISDIR' });
});
