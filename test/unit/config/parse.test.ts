import assert from 'node:assert/strict';
import { test } from 'node:test';
import { environmentOf, parseDeliveryConfig, selectHosts } from '../../../core/config/parse';
import type { ParseContext } from '../../../core/config/parse';
import { deliveryConfigSchema } from '../../../core/config/schema';
import type { DeliveryConfig } from '../../../core/config/schema';
import { InputError } from '../../../core/domain/errors';
import { storeDescriptorSchema } from '../../../core/domain/store';

const ctx: ParseContext = { source: '.deliver/config', projectDir: '/home/ana/hello', detectedTool: 'rebar3' };

/** The smallest config that loads: one build host, one staging host. */
const minimal: Record<string, string> = {
  APP: 'hello',
  BUILD_HOST: 'build.example.com',
  BUILD_USER: 'builder',
  BUILD_AT: '/tmp/edeliver/hello/builds',
  STAGING_HOSTS: 'stage1',
  STAGING_USER: 'deploy',
  DELIVER_TO: '/opt/apps',
};

/** `minimal` without one variable. */
const without = (name: string): Record<string, string> => Object.fromEntries(Object.entries(minimal).filter(([k]) => k !== name));

function parsed(vars: Record<string, string>, context: ParseContext = ctx): DeliveryConfig {
  const result = parseDeliveryConfig(vars, context);
  if (!result.ok) assert.fail(`expected a valid config, got:\n${result.errors.join('\n')}`);
  return result.config;
}

function errorsOf(vars: Record<string, string>, context: ParseContext = ctx): string[] {
  const result = parseDeliveryConfig(vars, context);
  if (result.ok) assert.fail('expected errors, got a valid config');
  return result.errors;
}

test('a full config yields hosts with ports, users, NODES deploy roots, templated node names and a custom environment', () => {
  const config = parsed({
    APP: 'hello',
    BUILD_HOST: 'build.example.com:2222',
    BUILD_USER: 'builder',
    BUILD_AT: '/tmp/edeliver/hello/builds',
    RELEASE_DIR: '/tmp/edeliver/hello/builds/_build/prod/rel/hello',
    RELEASE_STORE: 'releases',
    STAGING_HOSTS: 'stage1 ops@stage2:2201',
    STAGING_USER: 'stager',
    TEST_AT: '/srv/staging',
    PRODUCTION_HOSTS: 'web1  web1:2222',
    PRODUCTION_NODES: 'ops@web3:/opt/special',
    PRODUCTION_USER: 'deploy',
    DELIVER_TO: '/opt/apps',
    QA_HOSTS: 'qa1.internal',
    QA_USER: 'qa',
    QA_DELIVER_TO: '/opt/qa',
    NODE_NAME: '{app}_{port}@{host}',
    SSH_KNOWN_HOSTS: '/etc/ferry/known_hosts',
    SSH_IDENTITY_FILE: '/etc/ferry/id_ed25519',
    GIT_CLEAN_PATHS: '_build rel priv/static',
    PWD: '/home/ana/hello',
  });
  const expected: DeliveryConfig = {
    app: 'hello',
    source: '.deliver/config',
    projectDir: '/home/ana/hello',
    buildTool: 'rebar3',
    buildHost: { name: 'build.example.com:2222', address: 'build.example.com', port: 2222, user: 'builder' },
    buildAt: '/tmp/edeliver/hello/builds',
    releaseStore: { kind: 'local', dir: '/home/ana/hello/releases' },
    releaseDir: '/tmp/edeliver/hello/builds/_build/prod/rel/hello',
    environments: {
      staging: {
        name: 'staging',
        hosts: [
          { name: 'stage1', address: 'stage1', port: 22, portUnset: true, user: 'stager', deployTo: '/srv/staging', nodeName: 'hello_22@stage1' },
          { name: 'stage2:2201', address: 'stage2', port: 2201, user: 'ops', deployTo: '/srv/staging', nodeName: 'hello_2201@stage2' },
        ],
      },
      production: {
        name: 'production',
        hosts: [
          { name: 'web1', address: 'web1', port: 22, portUnset: true, user: 'deploy', deployTo: '/opt/apps', nodeName: 'hello_22@web1' },
          { name: 'web1:2222', address: 'web1', port: 2222, user: 'deploy', deployTo: '/opt/apps', nodeName: 'hello_2222@web1' },
          { name: 'web3', address: 'web3', port: 22, portUnset: true, user: 'ops', deployTo: '/opt/special', nodeName: 'hello_22@web3' },
        ],
      },
      qa: {
        name: 'qa',
        hosts: [{ name: 'qa1.internal', address: 'qa1.internal', port: 22, portUnset: true, user: 'qa', deployTo: '/opt/qa', nodeName: 'hello_22@qa1.internal' }],
      },
    },
    ssh: { knownHosts: '/etc/ferry/known_hosts', identityFile: '/etc/ferry/id_ed25519' },
  };
  assert.deepEqual(config, expected);
  assert.deepEqual(Object.keys(config.environments), ['staging', 'production', 'qa']);
  assert.deepEqual(deliveryConfigSchema.parse(config), config);
});

test('defaults: no node name (the release names its node), store in .deliver/releases, staging deploys to DELIVER_TO without TEST_AT', () => {
  const config = parsed(minimal);
  assert.deepEqual(config.releaseStore, { kind: 'local', dir: '/home/ana/hello/.deliver/releases' });
  assert.equal(config.releaseDir, undefined);
  assert.deepEqual(config.ssh, {});
  assert.deepEqual(config.environments, {
    staging: {
      name: 'staging',
      hosts: [{ name: 'stage1', address: 'stage1', port: 22, portUnset: true, user: 'deploy', deployTo: '/opt/apps' }],
    },
  });
  assert.deepEqual(deliveryConfigSchema.parse(config), config);
});

test('STAGING_DELIVER_TO overrides TEST_AT, which overrides DELIVER_TO', () => {
  assert.equal(parsed({ ...minimal, TEST_AT: '/srv/test' }).environments.staging?.hosts[0]?.deployTo, '/srv/test');
  const config = parsed({ ...minimal, TEST_AT: '/srv/test', STAGING_DELIVER_TO: '/srv/stage' });
  assert.equal(config.environments.staging?.hosts[0]?.deployTo, '/srv/stage');
});

test('{index} counts hosts from 1 within each environment', () => {
  const config = parsed({ ...minimal, STAGING_HOSTS: 'a b', PRODUCTION_HOSTS: 'c', PRODUCTION_USER: 'deploy', NODE_NAME: 'n{index}@{host}' });
  assert.deepEqual(config.environments.staging?.hosts.map((h) => h.nodeName), ['n1@a', 'n2@b']);
  assert.deepEqual(config.environments.production?.hosts.map((h) => h.nodeName), ['n1@c']);
});

test('an empty HOSTS variable defines no environment', () => {
  assert.deepEqual(Object.keys(parsed({ ...minimal, PRODUCTION_HOSTS: '', PRODUCTION_USER: 'deploy' }).environments), ['staging']);
});

test('BUILD_TOOL overrides the detected build tool', () => {
  assert.equal(parsed({ ...minimal, BUILD_TOOL: 'mix' }).buildTool, 'mix');
});

test('an unsupported BUILD_TOOL is rejected with the supported values', () => {
  assert.deepEqual(errorsOf({ ...minimal, BUILD_TOOL: 'rebar' }), [
    '.deliver/config: BUILD_TOOL: "rebar" is not supported: set BUILD_TOOL="rebar3" or BUILD_TOOL="mix"',
  ]);
});

test('no detected build tool and no BUILD_TOOL asks for rebar.config, mix.exs or BUILD_TOOL', () => {
  assert.deepEqual(errorsOf(minimal, { source: '.deliver/config', projectDir: '/home/ana/hello' }), [
    '.deliver/config: BUILD_TOOL is not set and /home/ana/hello has no rebar.config or mix.exs: add one of them, or set BUILD_TOOL="rebar3" or BUILD_TOOL="mix"',
  ]);
});

test('a missing APP is reported with an example', () => {
  const vars = without('APP');
  assert.deepEqual(errorsOf(vars), ['.deliver/config: APP is not set: add APP="my_app" (the OTP application name)']);
});

test('an APP that is not an OTP application name is rejected', () => {
  assert.deepEqual(errorsOf({ ...minimal, APP: 'Hello-World' }), [
    '.deliver/config: APP: invalid app name "Hello-World": expected an OTP application name like my_app',
  ]);
});

test('a missing BUILD_HOST is reported with an example', () => {
  const vars = without('BUILD_HOST');
  assert.deepEqual(errorsOf(vars), [
    '.deliver/config: BUILD_HOST is not set: add BUILD_HOST="build.example.com" (the host that builds releases)',
  ]);
});

test('a missing BUILD_AT is reported with an example', () => {
  const vars = without('BUILD_AT');
  assert.deepEqual(errorsOf(vars), [
    '.deliver/config: BUILD_AT is not set: add BUILD_AT="/tmp/edeliver/hello/builds" (the directory on the build host where releases are built)',
  ]);
});

test('a bad port names the variable and the entry', () => {
  assert.deepEqual(errorsOf({ ...minimal, PRODUCTION_HOSTS: 'web1:22x', PRODUCTION_USER: 'deploy' }), [
    '.deliver/config: PRODUCTION_HOSTS: invalid port "22x" in "web1:22x"',
  ]);
  assert.deepEqual(errorsOf({ ...minimal, BUILD_HOST: 'build:70000' }), ['.deliver/config: BUILD_HOST: invalid port "70000" in "build:70000"']);
});

test('a bad user is reported once, under the variable that holds it', () => {
  assert.deepEqual(errorsOf({ ...minimal, STAGING_HOSTS: 'stage1 stage2', STAGING_USER: 'Ana;rm' }), [
    '.deliver/config: STAGING_USER: invalid user name "Ana;rm"',
  ]);
  assert.deepEqual(errorsOf({ ...minimal, BUILD_HOST: 'Root@build' }), ['.deliver/config: BUILD_HOST: invalid user name "Root"']);
});

test('hosts without a user ask for <ENV>_USER or user@host', () => {
  const vars = without('STAGING_USER');
  assert.deepEqual(errorsOf(vars), ['.deliver/config: STAGING_HOSTS: no user for "stage1": add STAGING_USER="deploy" or write "deploy@stage1"']);
  const noBuildUser = without('BUILD_USER');
  assert.deepEqual(errorsOf(noBuildUser), [
    '.deliver/config: BUILD_HOST: no user for "build.example.com": add BUILD_USER="builder" or write BUILD_HOST="builder@build.example.com"',
  ]);
});

test('a relative DELIVER_TO is rejected', () => {
  assert.deepEqual(errorsOf({ ...minimal, DELIVER_TO: 'opt/apps' }), [
    '.deliver/config: DELIVER_TO: "opt/apps" must be an absolute path of letters, digits and . _ @ + -',
  ]);
});

test('hosts with no deploy root ask for DELIVER_TO', () => {
  const vars = without('DELIVER_TO');
  assert.deepEqual(errorsOf(vars), [
    '.deliver/config: STAGING_HOSTS: no deploy directory for staging: set DELIVER_TO="/opt/apps" (or STAGING_DELIVER_TO or TEST_AT)',
  ]);
});

test('paths with ;, $(...), spaces, backquotes or .. are rejected', () => {
  for (const bad of ['/opt/apps;rm -rf /', '/opt/$(touch /tmp/x)', '/opt/my apps', '/opt/`id`', '/opt/../etc']) {
    assert.deepEqual(errorsOf({ ...minimal, BUILD_AT: bad }), [
      `.deliver/config: BUILD_AT: "${bad}" must be an absolute path of letters, digits and . _ @ + -`,
    ]);
  }
});

test('a NODES entry sets its own deploy root and must have one', () => {
  const vars = { ...minimal, STAGING_HOSTS: '', STAGING_NODES: 'ops@s1:2200:/srv/a s2:/srv/b' };
  assert.deepEqual(
    parsed(vars).environments.staging?.hosts.map((h) => [h.name, h.user, h.deployTo]),
    [
      ['s1:2200', 'ops', '/srv/a'],
      ['s2', 'deploy', '/srv/b'],
    ],
  );
  assert.deepEqual(errorsOf({ ...vars, STAGING_NODES: 'ops@s1 ops@s2:/srv/b/../../etc' }), [
    '.deliver/config: STAGING_NODES: "ops@s1" has no deploy directory: write user@host[:port]:/deploy/path',
    '.deliver/config: STAGING_NODES: "/srv/b/../../etc" must be an absolute path of letters, digits and . _ @ + -',
  ]);
});

/** The node-name problems of `env`, which only commands that reach its nodes report: the config itself loads. */
function nodeNameErrorsOf(vars: Record<string, string>, env = 'staging'): string[] {
  const config = parsed(vars);
  assert.deepEqual(deliveryConfigSchema.parse(config), config);
  const e = environmentOf(config, env);
  const errors = e.nodeNameErrors ?? [];
  assert.throws(() => selectHosts(e, undefined), new InputError(errors.join('\n')));
  return errors;
}

test('a NODE_NAME that renders an invalid node name is reported per host, by commands that reach the nodes', () => {
  assert.deepEqual(nodeNameErrorsOf({ ...minimal, NODE_NAME: '{app}-{host}' }), [
    '.deliver/config: NODE_NAME (staging host stage1): invalid node name "hello-stage1": expected name@host',
  ]);
});

test('an unknown NODE_NAME placeholder is rejected once', () => {
  assert.deepEqual(errorsOf({ ...minimal, STAGING_HOSTS: 'a b', NODE_NAME: '{name}@{hostname}' }), [
    '.deliver/config: NODE_NAME: unknown placeholder "{name}": use {app}, {host}, {port} or {index}',
    '.deliver/config: NODE_NAME: unknown placeholder "{hostname}": use {app}, {host}, {port} or {index}',
  ]);
});

test('two hosts on one address with the same node name are an error naming both, with the fix for port-forwarded machines', () => {
  assert.deepEqual(nodeNameErrorsOf({ ...minimal, STAGING_HOSTS: 'web1 web1:2222', NODE_NAME: '{app}@{host}' }), [
    '.deliver/config: NODE_NAME: staging hosts web1 and web1:2222 both get node name "hello@web1": make it unique per host, ' +
      'e.g. NODE_NAME="{app}_{port}@{host}" or "{app}{index}@{host}"; hosts that share one address behind different SSH ports ' +
      '(port-forwarded machines) need {port} or {index}, or one name each in STAGING_NODE_NAMES; ' +
      "or unset NODE_NAME and the nodes keep the names their release's vm.args gives",
  ]);
});

test('hosts that share one address behind different SSH ports: each keeps its release\'s name, or gets one by {port} or <ENV>_NODE_NAMES', () => {
  const shared = { ...minimal, STAGING_HOSTS: '10.0.0.9:2201 10.0.0.9:2202 10.0.0.9:2203' };
  assert.deepEqual(parsed(shared).environments.staging?.hosts.map((h) => [h.name, h.nodeName]), [
    ['10.0.0.9:2201', undefined],
    ['10.0.0.9:2202', undefined],
    ['10.0.0.9:2203', undefined],
  ]);
  assert.deepEqual(
    parsed({ ...shared, NODE_NAME: '{app}_{port}@{host}' }).environments.staging?.hosts.map((h) => h.nodeName),
    ['hello_2201@10.0.0.9', 'hello_2202@10.0.0.9', 'hello_2203@10.0.0.9'],
  );
  assert.deepEqual(
    parsed({ ...shared, NODE_NAME: '{app}@{host}', STAGING_NODE_NAMES: 'a@h1 b@h2 c@h3' }).environments.staging?.hosts.map((h) => h.nodeName),
    ['a@h1', 'b@h2', 'c@h3'],
  );
});

test('a node-name clash in one environment fails only commands that reach its nodes, not the other environments', () => {
  const config = parsed({ ...minimal, PRODUCTION_HOSTS: '10.0.0.9:2201 10.0.0.9:2202', PRODUCTION_USER: 'deploy', NODE_NAME: '{app}@{host}' });
  assert.match(config.environments.production?.nodeNameErrors?.[0] ?? '', /production hosts 10\.0\.0\.9:2201 and 10\.0\.0\.9:2202 both get node name "hello@10\.0\.0\.9"/);
  assert.throws(() => selectHosts(environmentOf(config, 'production'), undefined), /both get node name/);
  assert.deepEqual(selectHosts(environmentOf(config, 'staging'), undefined).map((h) => h.nodeName), ['hello@stage1']);
});

test('a host listed twice in one environment is an error, also across HOSTS and NODES', () => {
  assert.deepEqual(errorsOf({ ...minimal, STAGING_HOSTS: 'stage1 ops@stage1:22' }), [
    '.deliver/config: STAGING_HOSTS: host "stage1" is listed twice for staging: remove one of them',
  ]);
  assert.deepEqual(errorsOf({ ...minimal, STAGING_NODES: 'stage1:/srv/x' }), [
    '.deliver/config: STAGING_NODES: host "stage1" is listed twice for staging: remove one of them',
  ]);
});

test('the same host may appear in two environments', () => {
  const config = parsed({ ...minimal, PRODUCTION_HOSTS: 'stage1', PRODUCTION_USER: 'deploy', NODE_NAME: '{app}@{host}' });
  assert.equal(config.environments.production?.hosts[0]?.nodeName, 'hello@stage1');
});

test('RELEASE_STORE may be a directory, absolute or relative to the project, never above it', () => {
  assert.deepEqual(parsed({ ...minimal, RELEASE_STORE: './store/' }).releaseStore, { kind: 'local', dir: '/home/ana/hello/store' });
  assert.deepEqual(parsed({ ...minimal, RELEASE_STORE: '/var/ferry/store' }).releaseStore, { kind: 'local', dir: '/var/ferry/store' });
  assert.deepEqual(errorsOf({ ...minimal, RELEASE_STORE: '../shared' }), [
    '.deliver/config: RELEASE_STORE: "../shared" must be a directory of letters, digits and . _ @ + -, absolute or relative to /home/ana/hello, without ".."',
  ]);
});

test('RELEASE_STORE=user@host[:port]:/path is a directory on a host reached over SSH', () => {
  assert.deepEqual(parsed({ ...minimal, RELEASE_STORE: 'deploy@store.example.com:/srv/releases/' }).releaseStore, {
    kind: 'remote',
    host: { name: 'store.example.com', address: 'store.example.com', port: 22, portUnset: true, user: 'deploy' },
    path: '/srv/releases',
  });
  assert.deepEqual(parsed({ ...minimal, RELEASE_STORE: 'deploy@10.0.0.9:2222:/srv/r' }).releaseStore, {
    kind: 'remote',
    host: { name: '10.0.0.9:2222', address: '10.0.0.9', port: 2222, user: 'deploy' },
    path: '/srv/r',
  });
  assert.deepEqual(errorsOf({ ...minimal, RELEASE_STORE: 'store:/srv/releases' }), [
    '.deliver/config: RELEASE_STORE: no user for host "store": set it as user@host',
  ]);
  assert.match(errorsOf({ ...minimal, RELEASE_STORE: 'deploy@store:/srv/$(reboot)' })[0]!, /RELEASE_STORE: "\/srv\/\$\(reboot\)" must be an absolute path/);
});

test('RELEASE_STORE=s3://bucket/prefix is an S3 store; RELEASE_STORE_ENDPOINT names an S3-compatible server', () => {
  const result = parseDeliveryConfig({ ...minimal, RELEASE_STORE: 's3://my-releases/hello/prod/' }, ctx);
  assert.ok(result.ok);
  assert.deepEqual(result.config.releaseStore, { kind: 's3', bucket: 'my-releases', prefix: 'hello/prod' });
  assert.deepEqual(result.warnings, []);
  assert.deepEqual(parsed({ ...minimal, RELEASE_STORE: 's3://my-releases' }).releaseStore, { kind: 's3', bucket: 'my-releases', prefix: '' });
  assert.deepEqual(
    parsed({ ...minimal, RELEASE_STORE: 's3://my-releases/x', RELEASE_STORE_ENDPOINT: 'http://127.0.0.1:9000/' }).releaseStore,
    { kind: 's3', bucket: 'my-releases', prefix: 'x', endpoint: 'http://127.0.0.1:9000' },
  );
  assert.deepEqual(errorsOf({ ...minimal, RELEASE_STORE: 's3://My_Bucket/x' }), [
    '.deliver/config: RELEASE_STORE: "s3://My_Bucket/x" is not an S3 store: write s3://bucket/prefix with a bucket name of a-z, 0-9, . and -',
  ]);
  assert.deepEqual(errorsOf({ ...minimal, RELEASE_STORE: 's3://b1b/../x' }), [
    '.deliver/config: RELEASE_STORE: prefix "../x" must be letters, digits and . _ @ + - separated by /',
  ]);
  assert.deepEqual(errorsOf({ ...minimal, RELEASE_STORE_ENDPOINT: 'http://127.0.0.1:9000' }), [
    '.deliver/config: RELEASE_STORE_ENDPOINT: only an s3:// RELEASE_STORE uses an endpoint: remove it or set RELEASE_STORE="s3://bucket/prefix"',
  ]);
  assert.match(errorsOf({ ...minimal, RELEASE_STORE: 'ftp://host/x' })[0]!, /"ftp:\/\/host\/x" is not supported: use a directory, user@host:\/path or s3:\/\/bucket\/prefix/);
});

test("edeliver's s3://KEY@SECRET:bucket/prefix is accepted, the keys are dropped and a warning says where they belong", () => {
  const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
  const result = parseDeliveryConfig({ ...minimal, RELEASE_STORE: `s3://AKIAIOSFODNN7EXAMPLE@${secret}:my-releases/hello` }, ctx);
  assert.ok(result.ok);
  assert.deepEqual(result.config.releaseStore, { kind: 's3', bucket: 'my-releases', prefix: 'hello' });
  assert.deepEqual(result.warnings, [
    ".deliver/config: RELEASE_STORE holds AWS keys (edeliver's s3://KEY@SECRET:bucket form); Ferry ignores them and never sends them anywhere: " +
      'write RELEASE_STORE="s3://my-releases/hello" and set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the worker\'s environment',
  ]);
  const text = JSON.stringify(result);
  assert.ok(!text.includes(secret) && !text.includes('AKIAIOSFODNN7EXAMPLE'), 'no key anywhere in the parsed config or the warning');
  // An invalid value is reported with its keys masked.
  const errors = errorsOf({ ...minimal, RELEASE_STORE: `s3://AKIAIOSFODNN7EXAMPLE@${secret}:Bad_Bucket` });
  assert.deepEqual(errors, [
    '.deliver/config: RELEASE_STORE: "s3://***@***:Bad_Bucket" is not an S3 store: write s3://bucket/prefix with a bucket name of a-z, 0-9, . and -',
  ]);
});

test('a store descriptor in workflow input: the three kinds, a bare path for a local store, and no room for keys', () => {
  assert.deepEqual(storeDescriptorSchema.parse('/var/ferry/store'), { kind: 'local', dir: '/var/ferry/store' });
  assert.deepEqual(storeDescriptorSchema.parse({ kind: 's3', bucket: 'rel', prefix: 'a/b', endpoint: 'http://127.0.0.1:8533' }), {
    kind: 's3', bucket: 'rel', prefix: 'a/b', endpoint: 'http://127.0.0.1:8533',
  });
  const host = { name: 'h:2222', address: 'h', port: 2222, user: 'deploy' };
  assert.deepEqual(storeDescriptorSchema.parse({ kind: 'remote', host, path: '/srv/r' }), { kind: 'remote', host, path: '/srv/r' });
  assert.equal(storeDescriptorSchema.safeParse({ kind: 's3', bucket: 'rel', prefix: '', secretAccessKey: 'x' }).success, false);
  assert.equal(storeDescriptorSchema.safeParse({ kind: 'local', dir: 'relative' }).success, false);
  assert.equal(storeDescriptorSchema.safeParse({ kind: 's3', bucket: 'rel', prefix: '', endpoint: 'http://k:s@host' }).success, false);
  assert.equal(storeDescriptorSchema.safeParse({ kind: 'remote', host: { ...host, user: 'x;y' }, path: '/srv' }).success, false);
});

test('every problem is reported together, not just the first', () => {
  const errors = errorsOf(
    {
      APP: 'Hello!',
      BUILD_USER: 'builder',
      BUILD_AT: 'builds',
      PRODUCTION_HOSTS: 'web1:22x web2 web2',
      PRODUCTION_USER: 'deploy',
      DELIVER_TO: '/opt/$(id)',
      SSH_KNOWN_HOSTS: '~/.ssh/known_hosts',
    },
    { source: '.deliver/config', projectDir: '/p' },
  );
  assert.deepEqual(errors, [
    '.deliver/config: APP: invalid app name "Hello!": expected an OTP application name like my_app',
    '.deliver/config: BUILD_TOOL is not set and /p has no rebar.config or mix.exs: add one of them, or set BUILD_TOOL="rebar3" or BUILD_TOOL="mix"',
    '.deliver/config: BUILD_HOST is not set: add BUILD_HOST="build.example.com" (the host that builds releases)',
    '.deliver/config: BUILD_AT: "builds" must be an absolute path of letters, digits and . _ @ + -',
    '.deliver/config: SSH_KNOWN_HOSTS: "~/.ssh/known_hosts" must be an absolute path of letters, digits and . _ @ + -',
    '.deliver/config: DELIVER_TO: "/opt/$(id)" must be an absolute path of letters, digits and . _ @ + -',
    '.deliver/config: PRODUCTION_HOSTS: invalid port "22x" in "web1:22x"',
    '.deliver/config: PRODUCTION_HOSTS: host "web2" is listed twice for production: remove one of them',
  ]);
});

test('environmentOf returns a defined environment', () => {
  const config = parsed({ ...minimal, PRODUCTION_HOSTS: 'web1', PRODUCTION_USER: 'deploy' });
  assert.equal(environmentOf(config, 'production').hosts[0]?.name, 'web1');
});

test('environmentOf rejects an unknown environment, listing the defined ones and how to add one', () => {
  const config = parsed({ ...minimal, PRODUCTION_HOSTS: 'web1', PRODUCTION_USER: 'deploy' });
  assert.throws(
    () => environmentOf(config, 'qa'),
    new InputError('unknown environment "qa": .deliver/config defines staging, production (set QA_HOSTS to add one)'),
  );
  assert.throws(() => environmentOf(config, 'constructor'), InputError);
});

test('selectHosts matches by host name, address or node name, in the environment order', () => {
  const env = environmentOf(parsed({ ...minimal, STAGING_HOSTS: 'a a:2222 b c', NODE_NAME: '{app}{index}@{host}' }), 'staging');
  assert.equal(selectHosts(env, undefined), env.hosts);
  assert.equal(selectHosts(env, []), env.hosts);
  assert.deepEqual(
    selectHosts(env, ['c', 'a:2222']).map((h) => h.name),
    ['a:2222', 'c'],
  );
  assert.deepEqual(
    selectHosts(env, ['a']).map((h) => h.name),
    ['a', 'a:2222'],
  );
  assert.deepEqual(
    selectHosts(env, ['hello3@b']).map((h) => h.name),
    ['b'],
  );
});

test('selectHosts rejects unknown hosts, listing the valid ones', () => {
  const env = environmentOf(parsed({ ...minimal, STAGING_HOSTS: 'a b:2222', NODE_NAME: '{app}@{host}' }), 'staging');
  assert.throws(
    () => selectHosts(env, ['a', 'x', 'y']),
    new InputError('unknown host "x", "y" in staging: use one of a (hello@a), b:2222 (hello@b)'),
  );
  const named = environmentOf(parsed({ ...minimal, STAGING_HOSTS: 'a b:2222' }), 'staging');
  assert.throws(() => selectHosts(named, ['x']), new InputError('unknown host "x" in staging: use one of a, b:2222'));
});

test('AUTO_VERSION is read with edeliver names; an unknown part names the valid ones', () => {
  const config = parsed({ ...minimal, AUTO_VERSION: 'commit-count+git-revision+branch-unless-master' });
  assert.deepEqual(config.autoVersion, ['commit-count', 'revision', 'branch-unless-master']);
  assert.deepEqual(deliveryConfigSchema.parse(config).autoVersion, config.autoVersion);
  assert.equal(parsed(minimal).autoVersion, undefined);
  assert.deepEqual(errorsOf({ ...minimal, AUTO_VERSION: 'git-revision+mood' }), [
    '.deliver/config: AUTO_VERSION: unknown part "mood": use commit-count, commit-count-branch, revision, branch, branch-unless-master, date, time (joined by +, e.g. commit-count+git-revision)',
  ]);
});

test('any <ENV>_HOSTS makes an environment with its own _USER and _DELIVER_TO (beyond staging and production)', () => {
  const config = parsed({ ...minimal, LOADTEST_HOSTS: 'lt1 lt2:2200', LOADTEST_USER: 'bench', LOADTEST_DELIVER_TO: '/srv/lt' });
  assert.deepEqual(Object.keys(config.environments), ['staging', 'loadtest']);
  assert.deepEqual(
    config.environments.loadtest!.hosts.map((h) => `${h.user}@${h.name}:${h.deployTo}`),
    ['bench@lt1:/srv/lt', 'bench@lt2:2200:/srv/lt'],
  );
  assert.equal(environmentOf(config, 'loadtest').name, 'loadtest');
});

test('SSH options per environment and for the build host: jump chain, identity file, connect timeout, default port', () => {
  const config = parsed({
    ...minimal,
    PRODUCTION_HOSTS: 'web1 web2:2202',
    PRODUCTION_USER: 'deploy',
    PRODUCTION_SSH_JUMP: 'ops@bastion.example.com:2200,10.0.0.1',
    PRODUCTION_SSH_IDENTITY_FILE: '/etc/ferry/prod_key',
    PRODUCTION_SSH_PORT: '2222',
    SSH_CONNECT_TIMEOUT: '15',
    BUILD_SSH_CONNECT_TIMEOUT: '30',
    SSH_CONFIG: '/etc/ferry/ssh_config',
  });
  const [web1, web2] = config.environments.production!.hosts;
  assert.deepEqual(
    { ...web1, deployTo: undefined, nodeName: undefined },
    {
      name: 'web1:2222',
      address: 'web1',
      port: 2222,
      user: 'deploy',
      jump: [
        { name: 'bastion.example.com:2200', address: 'bastion.example.com', port: 2200, user: 'ops' },
        { name: '10.0.0.1', address: '10.0.0.1', port: 22, portUnset: true },
      ],
      identityFile: '/etc/ferry/prod_key',
      connectTimeout: 15,
      deployTo: undefined,
      nodeName: undefined,
    },
  );
  assert.equal(web2!.port, 2202, 'a port in the entry wins over PRODUCTION_SSH_PORT');
  assert.equal(config.buildHost.connectTimeout, 30);
  assert.equal(config.buildHost.jump, undefined);
  assert.equal(config.environments.staging!.hosts[0]!.connectTimeout, 15);
  assert.deepEqual(config.ssh, { configFile: '/etc/ferry/ssh_config' });
  assert.equal(deliveryConfigSchema.safeParse(config).success, true);
});

test('SSH_JUMP is every host\'s jump; <ENV>_SSH_JUMP=none turns it off for one environment; SSH_CONFIG=none reads no file', () => {
  const config = parsed({ ...minimal, SSH_JUMP: 'bastion', PRODUCTION_HOSTS: 'web1', PRODUCTION_USER: 'deploy', PRODUCTION_SSH_JUMP: 'none', SSH_CONFIG: 'none' });
  assert.deepEqual(config.buildHost.jump, [{ name: 'bastion', address: 'bastion', port: 22, portUnset: true }]);
  assert.deepEqual(config.environments.staging!.hosts[0]!.jump, [{ name: 'bastion', address: 'bastion', port: 22, portUnset: true }]);
  assert.deepEqual(config.environments.production!.hosts[0]!.jump, []);
  assert.deepEqual(config.ssh, { configFile: 'none' });
});

test('bad SSH options are reported once each, with the variable and the fix', () => {
  assert.deepEqual(
    errorsOf({ ...minimal, STAGING_HOSTS: 'stage1 stage2', STAGING_SSH_JUMP: 'bastion:22x', SSH_CONNECT_TIMEOUT: '0', STAGING_SSH_PORT: '70000', SSH_CONFIG: 'ssh_config' }),
    [
      '.deliver/config: SSH_CONNECT_TIMEOUT: "0" must be a whole number of at least 1',
      '.deliver/config: SSH_CONFIG: "ssh_config" must be an absolute path of letters, digits and . _ @ + -',
      '.deliver/config: STAGING_SSH_JUMP: cannot read host "bastion:22x": expected host, host:port or user@host:port',
      '.deliver/config: STAGING_SSH_PORT: "70000" is not a port (1-65535)',
    ],
  );
});
