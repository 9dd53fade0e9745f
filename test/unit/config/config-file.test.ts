import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadDeliveryConfig } from '../../../client/config-file';
import { InputError } from '../../../core/domain/errors';
import { project } from '../../support/project';

const minimal = `APP="hello"
BUILD_HOST="build.example.com"
BUILD_USER="builder"
BUILD_AT="/tmp/edeliver/hello/builds"
STAGING_HOSTS="stage1"
STAGING_USER="deploy"
DELIVER_TO="/opt/apps"
`;

test('an edeliver config is evaluated by bash: variables, $(pwd), comments and functions', async () => {
  const dir = project({
    'rebar.config': '{erl_opts, [debug_info]}.\n',
    '.deliver/config': `#!/usr/bin/env bash
# Ferry reads this file the way edeliver does.
APP="hello"

BUILD_HOST="build.example.com:2222"   # the build machine
BUILD_USER="builder"
BUILD_AT="/tmp/edeliver/$APP/builds"
RELEASE_STORE="$(pwd)/store"

STAGING_HOSTS="stage1 stage2:2201"
STAGING_USER="deploy"
PRODUCTION_HOSTS="web1"
PRODUCTION_USER="$STAGING_USER"
DELIVER_TO="/opt/$APP"
NODE_NAME='{app}_{port}@{host}'
MESSAGE='multi
line; $(not run) value'
echo "edeliver configs may print things"

pre_erlang_clean_compile() {
  status "Running phoenix.digest"
  __sync_remote "cd '$BUILD_AT' && mix phx.digest"
}
`,
  });
  const config = await loadDeliveryConfig({ cwd: dir });
  assert.deepEqual(config, {
    app: 'hello',
    source: '.deliver/config',
    projectDir: dir,
    buildTool: 'rebar3',
    buildHost: { name: 'build.example.com:2222', address: 'build.example.com', port: 2222, user: 'builder' },
    buildAt: '/tmp/edeliver/hello/builds',
    releaseStore: { kind: 'local', dir: `${dir}/store` },
    environments: {
      staging: {
        name: 'staging',
        hosts: [
          { name: 'stage1', address: 'stage1', port: 22, portUnset: true, user: 'deploy', deployTo: '/opt/hello', nodeName: 'hello_22@stage1' },
          { name: 'stage2:2201', address: 'stage2', port: 2201, user: 'deploy', deployTo: '/opt/hello', nodeName: 'hello_2201@stage2' },
        ],
      },
      production: {
        name: 'production',
        hosts: [{ name: 'web1', address: 'web1', port: 22, portUnset: true, user: 'deploy', deployTo: '/opt/hello', nodeName: 'hello_22@web1' }],
      },
    },
    ssh: {},
    // The hook as bash itself prints it (`declare -f`): plain data for the workflow, run later on the build host.
    hooks: {
      pre_erlang_clean_compile: 'pre_erlang_clean_compile () \n{ \n    status "Running phoenix.digest";\n    __sync_remote "cd \'$BUILD_AT\' && mix phx.digest"\n}',
    },
  });
});

test('only the hook names Ferry knows are taken from the config; other functions stay helpers', async () => {
  const dir = project({
    'rebar.config': '{erl_opts, [debug_info]}.\n',
    '.deliver/config': `${minimal}
helper() { echo "a helper"; }
post_extract_release_archive() { helper; echo "extracted $VERSION"; }
function pre_start_deployed_release { true; }
pre_unknown_hook() { echo never; }
`,
  });
  const config = await loadDeliveryConfig({ cwd: dir });
  assert.deepEqual(Object.keys(config.hooks ?? {}).sort(), ['post_extract_release_archive', 'pre_start_deployed_release']);
  assert.match(config.hooks!.post_extract_release_archive!, /^post_extract_release_archive \(\) \n\{ \n {4}helper;\n {4}echo "extracted \$VERSION"\n\}$/);
});

test('a config without hooks has no hooks field', async () => {
  const dir = project({ 'rebar.config': '{erl_opts, [debug_info]}.\n', '.deliver/config': minimal });
  assert.equal((await loadDeliveryConfig({ cwd: dir })).hooks, undefined);
});

test('mix.exs makes the build tool mix', async () => {
  const dir = project({ 'mix.exs': 'defmodule Hello.MixProject do\nend\n', '.deliver/config': minimal });
  assert.equal((await loadDeliveryConfig({ cwd: dir })).buildTool, 'mix');
});

test('--config=FILE reads that file; the project is the directory that holds its .deliver/', async () => {
  const dir = project({ 'rebar.config': '', '.deliver/config': minimal });
  const elsewhere = project({});
  const config = await loadDeliveryConfig({ cwd: elsewhere, configFile: path.join(dir, '.deliver/config') });
  assert.equal(config.projectDir, dir);
  assert.equal(config.source, path.join(dir, '.deliver/config'));
  assert.deepEqual(config.releaseStore, { kind: 'local', dir: `${dir}/.deliver/releases` });
});

test('the file sees the caller environment, as edeliver sources it in the user shell', async (t) => {
  process.env.FERRY_TEST_STATE_DIR = '/srv/state';
  t.after(() => delete process.env.FERRY_TEST_STATE_DIR);
  const dir = project({ 'rebar.config': '', '.deliver/config': `${minimal}BUILD_AT="$FERRY_TEST_STATE_DIR/build"\n` });
  assert.equal((await loadDeliveryConfig({ cwd: dir })).buildAt, '/srv/state/build');
});

test('a missing .deliver/config is an InputError that says how to create one', async () => {
  const dir = project({});
  await assert.rejects(
    loadDeliveryConfig({ cwd: dir }),
    new InputError(`no .deliver/config in ${dir}: create one (see README) or pass --config=FILE`),
  );
  await assert.rejects(loadDeliveryConfig({ cwd: dir, configFile: 'ferry.conf' }), {
    name: 'InputError',
    message: `config file ${dir}/ferry.conf does not exist: check --config=FILE`,
  });
});

test('a bash syntax error is an InputError naming the file and quoting bash, and no line of the file runs', async () => {
  const dir = project({ 'rebar.config': '', '.deliver/config': `touch "$(pwd)/ran"\nAPP="hello"\nif then\n` });
  await assert.rejects(loadDeliveryConfig({ cwd: dir }), (err: Error) => {
    assert.ok(err instanceof InputError);
    assert.match(err.message, /^\.deliver\/config: bash stopped with exit code 2 while reading it: fix the file\n/);
    assert.match(err.message, /line 3: syntax error near unexpected token `then'/);
    return true;
  });
  assert.equal(existsSync(path.join(dir, 'ran')), false);
});

test('a file that exits non-zero is an InputError with its exit code and stderr', async () => {
  const dir = project({ 'rebar.config': '', '.deliver/config': `${minimal}echo "BUILD_AT is wrong" >&2\nexit 3\n` });
  await assert.rejects(loadDeliveryConfig({ cwd: dir }), {
    name: 'InputError',
    message: '.deliver/config: bash stopped with exit code 3 while reading it: fix the file\nBUILD_AT is wrong',
  });
});

test('a file that exits 0 early is an InputError, not a config with missing values', async () => {
  const dir = project({ 'rebar.config': '', '.deliver/config': `${minimal}exit 0\n` });
  await assert.rejects(loadDeliveryConfig({ cwd: dir }), {
    name: 'InputError',
    message: '.deliver/config: the file calls exit before its end: remove the exit',
  });
});

test('a command in single quotes is not executed, and the value is rejected as a path and as a host', async () => {
  const dir = project({ 'rebar.config': '' });
  const pwnedPath = path.join(dir, 'pwned-path');
  const pwnedHost = path.join(dir, 'pwned-host');
  mkdirSync(path.join(dir, '.deliver'));
  writeFileSync(
    path.join(dir, '.deliver/config'),
    `${minimal}BUILD_AT='/tmp/$(touch ${pwnedPath})'\nPRODUCTION_HOSTS='web1 $(touch ${pwnedHost})'\nPRODUCTION_USER=deploy\n`,
  );
  await assert.rejects(loadDeliveryConfig({ cwd: dir }), (err: Error) => {
    assert.ok(err instanceof InputError);
    assert.deepEqual(err.message.split('\n'), [
      `.deliver/config: BUILD_AT: "/tmp/$(touch ${pwnedPath})" must be an absolute path of letters, digits and . _ @ + -`,
      '.deliver/config: PRODUCTION_HOSTS: invalid host name "$(touch"',
      `.deliver/config: PRODUCTION_HOSTS: invalid host name "${pwnedHost})"`,
    ]);
    return true;
  });
  assert.equal(existsSync(pwnedPath), false);
  assert.equal(existsSync(pwnedHost), false);
});

test('every validation problem comes back in one InputError, one per line', async () => {
  const dir = project({ '.deliver/config': 'APP="Hello"\nBUILD_USER=builder\nBUILD_AT=builds\n' });
  await assert.rejects(loadDeliveryConfig({ cwd: dir }), {
    name: 'InputError',
    message: [
      '.deliver/config: APP: invalid app name "Hello": expected an OTP application name like my_app',
      `.deliver/config: BUILD_TOOL is not set and ${dir} has no rebar.config or mix.exs: add one of them, or set BUILD_TOOL="rebar3" or BUILD_TOOL="mix"`,
      '.deliver/config: BUILD_HOST is not set: add BUILD_HOST="build.example.com" (the host that builds releases)',
      '.deliver/config: BUILD_AT: "builds" must be an absolute path of letters, digits and . _ @ + -',
    ].join('\n'),
  });
});
