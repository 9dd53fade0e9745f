import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { runHook } from '../../../core/commands/hooks';
import { toShell } from '../../../core/commands/shell';
import { buildHookVariables, hooksSchema, hostHookVariables } from '../../../core/domain/hooks';
import { buildRequestSchema, parseRequest } from '../../../core/domain/requests';

/** Runs a hook command the way a host's login shell does: one string through `sh -c`. */
const sh = (line: string) => spawnSync('sh', ['-c', line], { encoding: 'utf8' });

test('a hook runs with its variables exported and edeliver helpers defined; values reach it unchanged', () => {
  // As in edeliver, __sync_remote's argument is expanded once by the hook and once more by the shell that runs it.
  const text = `pre_erlang_clean_compile () \n{ \n    status "compiling $APP";\n    echo "at $BUILD_AT";\n    __sync_remote "cd /tmp && echo \\"in \\$(pwd) for $VERSION\\""\n}`;
  const r = sh(toShell(runHook('pre_erlang_clean_compile', text, { APP: 'hello', BUILD_AT: "/tmp/it's $(here)", VERSION: '0.2.0' })));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "-----> compiling hello\nat /tmp/it's $(here)\nin /tmp for 0.2.0\n");
});

test('a failing command stops the hook (set -e) with its exit code; `error` fails it too', () => {
  const failing = sh(toShell(runHook('post_extract_release_archive', 'post_extract_release_archive () { echo before; ls /no/such/dir; echo after; }', {})));
  assert.notEqual(failing.status, 0);
  assert.equal(failing.stdout, 'before\n');
  assert.match(failing.stderr, /No such file/);
  const err = sh(toShell(runHook('pre_upgrade_release', 'pre_upgrade_release () { error "not today"; }', {})));
  assert.equal(err.status, 1);
  assert.equal(err.stderr, 'not today\n');
});

test('build hooks see edeliver\'s build variables: DELIVER_TO is BUILD_AT; deploy hooks see the host\'s', () => {
  assert.deepEqual(
    buildHookVariables({ app: 'hello', tool: 'rebar3', buildHost: { address: 'build.example.com', port: 22, user: 'builder' }, buildAt: '/b', revision: 'abc', branch: 'main' }),
    { APP: 'hello', BUILD_HOST: 'build.example.com', BUILD_USER: 'builder', BUILD_AT: '/b', DELIVER_TO: '/b', TARGET_MIX_ENV: 'prod', MIX_ENV: 'prod', BUILD_CMD: 'rebar3', RELEASE_CMD: 'rebar3', REVISION: 'abc', BRANCH: 'main' },
  );
  const host = { name: 'web1:2222', address: 'web1', user: 'deploy', deployTo: '/opt/apps', nodeName: 'hello@web1' };
  assert.deepEqual(hostHookVariables({ app: 'hello', host, environment: 'production', version: '0.3.0', fromVersion: '0.2.0' }), {
    APP: 'hello', VERSION: '0.3.0', DELIVER_TO: '/opt/apps', DEPLOY_HOST: 'web1:2222', DEPLOY_USER: 'deploy', NODE_NAME: 'hello@web1', DEPLOY_ENVIRONMENT: 'production', FROM_VERSION: '0.2.0',
  });
});

test('workflow input takes only known hook names, each the function of that name', () => {
  assert.equal(hooksSchema.safeParse({ pre_erlang_clean_compile: 'pre_erlang_clean_compile () { true; }' }).success, true);
  assert.equal(hooksSchema.safeParse({ pre_erlang_clean_compile: 'function pre_erlang_clean_compile { true; }' }).success, false);
  const request = {
    app: 'hello', projectDir: '/src/hello', ref: 'main', buildHost: { name: 'b', address: 'b', port: 22, user: 'builder' }, buildAt: '/b', tool: 'rebar3',
    store: { kind: 'local', dir: '/store' },
  };
  assert.throws(
    () => parseRequest(buildRequestSchema, { ...request, hooks: { pre_rm_rf: 'pre_rm_rf () { rm -rf /; }' } }, 'buildRelease'),
    /invalid buildRelease request: hooks: Unrecognized key: "pre_rm_rf"/,
  );
  assert.throws(
    () => parseRequest(buildRequestSchema, { ...request, hooks: { pre_erlang_clean_compile: 'post_erlang_clean_compile () { true; }' } }, 'buildRelease'),
    /hooks\.pre_erlang_clean_compile: must be the bash function pre_erlang_clean_compile \(\) \{ \.\.\. \}/,
  );
  assert.throws(() => parseRequest(buildRequestSchema, { ...request, versioning: { set: '1.0.0+x' } }, 'buildRelease'), /versioning\.set: invalid version "1\.0\.0\+x": give it without \+metadata/);
  assert.throws(() => parseRequest(buildRequestSchema, { ...request, versioning: { auto: ['moon'] } }, 'buildRelease'), /versioning\.auto\.0/);
});
