import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../../core/domain/errors';
import { absolutePath, clusterGaps, nodeName, parseSshTarget, releaseLayout } from '../../../core/domain/host';
import { appName, compareReleases, compareVersions, gitRef, isVersion, releaseFileName, sortVersions, version } from '../../../core/domain/release';
import { deployRequestSchema, parseRequest } from '../../../core/domain/requests';

/** Asserts that `run` throws an InputError whose whole message is `message`. */
function rejects(run: () => unknown, message: string | RegExp): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

// --- release.ts: versions ---

test('version accepts every real-world version relx, mix and release_handler take that is one safe path segment', () => {
  for (const text of ['1', '1.0', '25.3.2.8', '2024.05.01', '1.0.0-rc.1', '0.1.0+build.5', '10.20.30-alpha-1+sha.5114f85', 'R16B03-1', '1.0~rc1', 'v2', '9'.repeat(100)]) {
    assert.equal(version(text), text);
    assert.equal(isVersion(text), true);
  }
});

test('version refuses anything else, naming the offending characters', () => {
  const cases: Array<[string, string]> = [
    ['1;id', '";" is not allowed; use letters, digits and . + ~ - (not _, which separates app and version in file names), starting with a letter or digit'],
    ['../x', '"/" is not allowed; use letters'],
    ['$(id)', '"$", "(", ")" are not allowed; use letters'],
    ['0.1.0 ', '" " is not allowed; use letters'],
    ['0.1.0\n', '"\\n" is not allowed; use letters'],
    ['1_0', '"_" is not allowed; use letters, digits and . + ~ - (not _, which separates app and version in file names)'],
    ['1`x`', '"`" is not allowed; use letters'],
    ['1\'x', '"\'" is not allowed; use letters'],
    ['-1', 'it starts with "-"; use letters'],
    ['.1', 'it starts with "."; use letters'],
    ['+1', 'it starts with "+"; use letters'],
    ['1..2', '".." is not allowed; use letters'],
    ['', 'it is empty; use letters'],
    ['RELEASES', 'it is the name of the file release_handler keeps in releases/'],
  ];
  for (const [text, problem] of cases) {
    assert.throws(
      () => version(text),
      (err: unknown) => err instanceof InputError && err.message.startsWith(`invalid version ${JSON.stringify(text)}: ${problem}`),
      text,
    );
    assert.equal(isVersion(text), false, text);
  }
});

test('version refuses a long text with a short message', () => {
  rejects(() => version('1'.repeat(101)), `invalid version "${'1'.repeat(40)}"...: it has 101 characters, at most 100 are allowed`);
  rejects(() => version('1;'.repeat(100_000)), `invalid version "${'1;'.repeat(20)}"...: it has 200000 characters, at most 100 are allowed`);
});

// One table, oldest first: every adjacent pair is strictly ordered by the rules.
const ORDERED = [
  '0.1.0',
  '0.2.0',
  '0.9.1',
  '0.10.0',
  '1.0.0-alpha',
  '1.0.0-alpha.1',
  '1.0.0-alpha.beta',
  '1.0.0-beta',
  '1.0.0-beta.2',
  '1.0.0-beta.11',
  '1.0.0-rc.1',
  '1.0.0',
  '1.0.1',
  '1.0.1.1',
  '1.1',
  '2',
  '2.1',
  '10',
  '25.3.2.8',
  '25.3.2.10',
  '2024.05.01',
  '2024.05.02',
  '2024.5.10',
  'v1',
  'v1.2',
  'v1.10',
];

test('compareVersions orders the table: numeric segments of any count, pre-releases first, numbers by value', () => {
  for (let i = 0; i + 1 < ORDERED.length; i++) {
    const [a, b] = [ORDERED[i]!, ORDERED[i + 1]!];
    assert.ok(compareVersions(a, b) < 0, `${a} < ${b}`);
    assert.ok(compareVersions(b, a) > 0, `${b} > ${a}`);
  }
  const shuffled = [...ORDERED].reverse();
  assert.deepEqual(sortVersions(shuffled), ORDERED);
});

test('compareVersions does not order versions that differ only in trailing zeros, zero padding or +metadata', () => {
  const equal: Array<[string, string]> = [
    ['1.0', '1.0.0'],
    ['1', '1.0.0.0'],
    ['2024.05.01', '2024.5.1'],
    ['1.0.0+build.5', '1.0.0+build.7'],
    ['1.0.0+build.5', '1.0.0'],
    ['1.0.0-rc.1+a', '1.0.0-rc.1'],
    ['1.0~rc1', '1.0-rc1'],
  ];
  for (const [a, b] of equal) assert.equal(compareVersions(a, b), 0, `${a} = ${b}`);
});

test('compareReleases breaks ties by build time, then by text; the same version is 0', () => {
  const early = '2026-01-01T10:00:00.000Z';
  const late = '2026-01-02T10:00:00.000Z';
  assert.ok(compareReleases({ version: '1.0.0', builtAt: late }, { version: '1.0', builtAt: early }) > 0, 'the later build is newer');
  assert.ok(compareReleases({ version: '1.0.0', builtAt: early }, { version: '1.0', builtAt: late }) < 0);
  assert.ok(compareReleases({ version: '1.0.0+b', builtAt: early }, { version: '1.0.0+a', builtAt: late }) < 0);
  assert.ok(compareReleases({ version: '1.0' }, { version: '1.0.0' }) < 0, 'without build times: by text');
  assert.ok(compareReleases({ version: '1.0.0' }, { version: '1.0', builtAt: late }) > 0, 'one build time is not enough');
  assert.ok(compareReleases({ version: '0.9', builtAt: late }, { version: '1.0', builtAt: early }) < 0, 'the rules come first');
  assert.equal(compareReleases({ version: '1.0', builtAt: early }, { version: '1.0', builtAt: late }), 0);
  assert.deepEqual(sortVersions(['1.0.0', '1.0', '1', '0.9']), ['0.9', '1', '1.0', '1.0.0']);
});

test('appName accepts an OTP application name and rejects anything else', () => {
  assert.equal(appName('my_app2'), 'my_app2');
  for (const text of ['MyApp', '2app', 'my-app', 'a b', '']) {
    rejects(() => appName(text), `invalid app name "${text}": expected an OTP application name like my_app`);
  }
});

test('releaseFileName is edeliver name for a release tarball', () => {
  assert.equal(releaseFileName({ app: 'hello', version: '0.2.0' }), 'hello_0.2.0.release.tar.gz');
});

// --- release.ts: git refs ---

test('gitRef accepts branches, tags and full revisions', () => {
  for (const text of ['main', 'feature/x-1', 'v1.2.3', 'release_1.0', 'HEAD', '0123456789abcdef0123456789abcdef01234567']) {
    assert.equal(gitRef(text), text);
  }
});

test('gitRef rejects option look-alikes, shell metacharacters and names git refuses, naming the flag', () => {
  for (const text of ['-x', 'a..b', 'a b', 'a;b', '$(x)', '`x`', 'x.lock', 'a//b', 'x/', 'x.', '', 'a~1', 'a^', 'a:b', 'a\\b']) {
    rejects(() => gitRef(text, 'tag'), `invalid tag ${JSON.stringify(text)}: use letters, digits, ".", "_", "-" and "/" only`);
  }
});

test('gitRef names the branch by default', () => {
  rejects(() => gitRef('a;b'), /^invalid branch "a;b": /);
});

test('gitRef rejects a ref that starts with a slash', () => {
  rejects(() => gitRef('/x'), /^invalid branch "\/x": /);
});

// --- host.ts ---

test('parseSshTarget fills the default user and port 22, and names the host by its address', () => {
  assert.deepEqual(parseSshTarget('web1.example.com', 'deploy', 'STAGING_HOSTS'), {
    name: 'web1.example.com',
    address: 'web1.example.com',
    port: 22,
    user: 'deploy',
    portUnset: true,
  });
});

test('parseSshTarget reads user@host:port and names the host address:port', () => {
  assert.deepEqual(parseSshTarget('ops@10.0.0.5:2201', 'deploy', 'STAGING_HOSTS'), { name: '10.0.0.5:2201', address: '10.0.0.5', port: 2201, user: 'ops' });
});

test('parseSshTarget names a host on an explicit port 22 by its address alone', () => {
  assert.deepEqual(parseSshTarget('127.0.0.1:22', 'root', 'h'), { name: '127.0.0.1', address: '127.0.0.1', port: 22, user: 'root' });
});

test('parseSshTarget reads a bracketed IPv6 address with a port', () => {
  assert.deepEqual(parseSshTarget('root@[::1]:2222', undefined, 'h'), { name: '[::1]:2222', address: '[::1]', port: 2222, user: 'root' });
});

test('parseSshTarget without a user anywhere asks for user@host', () => {
  rejects(() => parseSshTarget('web1', undefined, 'PRODUCTION_HOSTS'), 'PRODUCTION_HOSTS: no user for host "web1": set it as user@host');
});

test('parseSshTarget rejects text it cannot read as a host', () => {
  for (const text of ['a b', 'web1:22x', 'web1:', '']) {
    rejects(() => parseSshTarget(text, 'root', 'h'), `h: cannot read host "${text}": expected host, host:port or user@host:port`);
  }
});

test('parseSshTarget rejects host names that are options or carry metacharacters', () => {
  for (const address of ['-oProxyCommand=x', 'a;b', '$(x)', 'web_1', 'a..b']) {
    rejects(() => parseSshTarget(address, 'root', 'h'), `h: invalid host name "${address}"`);
  }
});

test('parseSshTarget rejects ports outside 1..65535', () => {
  rejects(() => parseSshTarget('web1:0', 'root', 'h'), 'h: invalid port "0" in "web1:0"');
  rejects(() => parseSshTarget('web1:65536', 'root', 'h'), 'h: invalid port "65536" in "web1:65536"');
});

test('parseSshTarget rejects a user name that is not a plain Unix name', () => {
  rejects(() => parseSshTarget('Root@web1', undefined, 'h'), 'h: invalid user name "Root"');
  rejects(() => parseSshTarget('web1', '-x', 'h'), 'h: invalid user name "-x"');
});

test('absolutePath accepts absolute paths and drops trailing slashes', () => {
  assert.equal(absolutePath('/opt/ferry', 'DELIVER_TO'), '/opt/ferry');
  assert.equal(absolutePath('/opt/ferry/', 'DELIVER_TO'), '/opt/ferry');
  assert.equal(absolutePath('/opt/my_app-1.0/@x+y', 'DELIVER_TO'), '/opt/my_app-1.0/@x+y');
  assert.equal(absolutePath('/', 'DELIVER_TO'), '/');
});

test('absolutePath rejects relative paths, .., spaces and shell metacharacters', () => {
  for (const text of ['opt/ferry', '', '/opt/../etc', '/..', '/opt/my app', '/opt/$(x)', '/opt/a;b', '/opt//x', '~/x', '/opt/`x`']) {
    rejects(() => absolutePath(text, 'DELIVER_TO'), `DELIVER_TO: "${text}" must be an absolute path of letters, digits and . _ @ + -`);
  }
});

test('nodeName accepts name@host', () => {
  assert.equal(nodeName('hello_2231@127.0.0.1', 'NODE_NAME'), 'hello_2231@127.0.0.1');
  assert.equal(nodeName('hello-1@web-1.example.com', 'NODE_NAME'), 'hello-1@web-1.example.com');
});

test('nodeName rejects anything but name@host', () => {
  for (const text of ['hello', 'a b', 'hello@', '@host', 'a@b@c', 'hello@$(x)', 'hello@host;x']) {
    rejects(() => nodeName(text, 'NODE_NAME'), `NODE_NAME: invalid node name "${text}": expected name@host`);
  }
});

test('clusterGaps: each node misses the expected nodes it does not see, itself excepted', () => {
  const views = [
    { host: 'h1', node: 'a@h', sees: ['b@h'] },
    { host: 'h2', node: 'b@h', sees: ['a@h'] },
  ];
  assert.deepEqual([...clusterGaps(views, ['a@h', 'b@h', 'c@h'])], [
    ['h1', { missing: ['c@h'] }],
    ['h2', { missing: ['c@h'] }],
  ]);
  assert.deepEqual([...clusterGaps(views)], [
    ['h1', { missing: [] }],
    ['h2', { missing: [] }],
  ], 'without Ferry\'s names, the names the nodes gave are expected');
});

test('clusterGaps: two hosts whose nodes give the same name are twins, which no cluster can hold', () => {
  const views = [
    { host: 'h1', node: 'hello@vm', sees: [] },
    { host: 'h2', node: 'hello@vm', sees: [] },
  ];
  assert.deepEqual([...clusterGaps(views)], [
    ['h1', { missing: [], twin: 'h2' }],
    ['h2', { missing: [], twin: 'h1' }],
  ]);
});

test('releaseLayout places the release, its tarballs and Ferry files under <deployTo>/<app>', () => {
  const l = releaseLayout('/srv/apps', 'shop');
  assert.deepEqual(
    {
      root: l.root,
      bin: l.bin,
      releasesDir: l.releasesDir,
      releaseDir: l.releaseDir('1.2.3-rc.1'),
      tarball: l.tarball(version('1.2.3-rc.1')),
      vmArgs: l.vmArgs,
      pipeDir: l.pipeDir,
      logDir: l.logDir,
    },
    {
      root: '/srv/apps/shop',
      bin: '/srv/apps/shop/bin/shop',
      releasesDir: '/srv/apps/shop/releases',
      releaseDir: '/srv/apps/shop/releases/1.2.3-rc.1',
      tarball: '/srv/apps/shop/releases/1.2.3-rc.1/shop.tar.gz',
      vmArgs: '/srv/apps/shop/ferry/vm.args',
      pipeDir: '/srv/apps/shop/ferry/pipes/',
      logDir: '/srv/apps/shop/log',
    },
  );
});

// --- requests.ts ---

const host = {
  name: '127.0.0.1:2231',
  address: '127.0.0.1',
  port: 2231,
  user: 'root',
  deployTo: '/opt/ferry',
  nodeName: 'hello_2231@127.0.0.1',
};
const deploy = { app: 'hello', environment: 'production', version: '0.1.0', hosts: [host], store: { kind: 'local' as const, dir: '/var/ferry/store' } };

test('parseRequest accepts a valid deploy request and fills startDeploy=false and maxParallel=10', () => {
  assert.deepEqual(parseRequest(deployRequestSchema, deploy, 'deploy'), { ...deploy, startDeploy: false, maxParallel: 10 });
});

test('parseRequest keeps startDeploy, maxParallel and ssh settings that are given', () => {
  const request = { ...deploy, startDeploy: true, maxParallel: 3, ssh: { knownHostsFile: '/home/ana/.ssh/known_hosts' } };
  assert.deepEqual(parseRequest(deployRequestSchema, request, 'deploy'), request);
});

test('parseRequest rejects a bad deploy request with one InputError naming every bad field', () => {
  const bad = { ...deploy, version: '0.1.0; rm -rf /', hosts: [{ ...host, deployTo: '/opt/$(x)', nodeName: 'a b' }], extra: true };
  rejects(
    () => parseRequest(deployRequestSchema, bad, 'deploy'),
    'invalid deploy request: ' +
      [
        'version: invalid version "0.1.0; rm -rf /": ";", " ", "/" are not allowed; use letters, digits and . + ~ - (not _, which separates app and version in file names), starting with a letter or digit',
        'hosts.0.deployTo: path: "/opt/$(x)" must be an absolute path of letters, digits and . _ @ + -',
        'hosts.0.nodeName: nodeName: invalid node name "a b": expected name@host',
        '(input): Unrecognized key: "extra"',
      ].join('; '),
  );
});

test('parseRequest rejects a deploy request that names no host', () => {
  rejects(() => parseRequest(deployRequestSchema, { ...deploy, hosts: [] }, 'deploy'), 'invalid deploy request: hosts: names no host');
});

test('parseRequest rejects a host with a bad address and user, by their paths', () => {
  rejects(
    () => parseRequest(deployRequestSchema, { ...deploy, hosts: [{ ...host, address: 'a;b', user: 'Root' }] }, 'deploy'),
    'invalid deploy request: hosts.0.user: must be a plain Unix user name; hosts.0: host: invalid host name "a;b"',
  );
});

test('parseRequest rejects maxParallel outside 1..500 and a bad environment name', () => {
  rejects(
    () => parseRequest(deployRequestSchema, { ...deploy, environment: 'Prod!', maxParallel: 0 }, 'deploy'),
    /^invalid deploy request: environment: must be an environment name like production; maxParallel: /,
  );
});

test('parseRequest rejects input that is not an object', () => {
  rejects(() => parseRequest(deployRequestSchema, 'deploy', 'deploy'), /^invalid deploy request: \(input\): /);
});
