import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkWorkerPath, guardWorkerFiles, workerFilesFromEnv, workerPaths } from '../../activities/worker-files';
import { InputError } from '../../core/domain/errors';
import { project } from '../support/project';

/** Real directories: `allowed` (with a file, a link to a file outside it and a link to a directory inside it) and `outside`. */
function tree() {
  const root = project();
  const allowed = join(root, 'allowed');
  const outside = join(root, 'outside');
  mkdirSync(join(allowed, 'keys'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(allowed, 'cookie'), 'a_cookie\n');
  writeFileSync(join(outside, 'secret'), 'not_yours\n');
  symlinkSync(join(outside, 'secret'), join(allowed, 'looks-inside'));
  symlinkSync(join(allowed, 'keys'), join(outside, 'link-to-keys'));
  mkdirSync(`${allowed}-sibling`);
  return { root, allowed, outside };
}

const refused = async (dirs: string[], path: string) =>
  assert.rejects(checkWorkerPath(dirs, path, 'COOKIE_FILE'), (err: unknown) => {
    assert.ok(err instanceof InputError);
    assert.match(err.message, /^COOKIE_FILE .* is not in a directory this worker lets requests name \(FERRY_WORKER_FILES: .*\); move it there, or add its directory/);
    return true;
  });

test('a file under an allowed directory, existing or not yet, is allowed; the directory itself too', async () => {
  const { allowed } = tree();
  for (const path of [join(allowed, 'cookie'), join(allowed, 'keys', 'id_ed25519'), join(allowed, 'store', 'new', 'dir'), allowed]) {
    await checkWorkerPath([allowed], path, 'COOKIE_FILE');
  }
});

test('a file outside, a sibling directory with the same prefix, and a link inside that points outside are refused', async () => {
  const { allowed, outside } = tree();
  await refused([allowed], join(outside, 'secret'));
  await refused([allowed], '/etc/passwd');
  await refused([allowed], join(`${allowed}-sibling`, 'cookie'));
  await refused([allowed], join(allowed, 'looks-inside'));
  await assert.rejects(checkWorkerPath([allowed], join(allowed, 'looks-inside'), 'COOKIE_FILE'), /looks-inside \(.*\/outside\/secret\) is not in/);
});

test('a link outside that points into an allowed directory is judged by where it points', async () => {
  const { allowed, outside } = tree();
  await checkWorkerPath([allowed], join(outside, 'link-to-keys', 'id_ed25519'), 'SSH_IDENTITY_FILE');
});

test('FERRY_WORKER_FILES lists absolute directories separated by ":"; default: the working directory and ~/.ssh', () => {
  const { allowed, outside } = tree();
  assert.deepEqual(workerFilesFromEnv({ FERRY_WORKER_FILES: `${allowed}:${outside}` }), [allowed, outside]);
  assert.deepEqual(workerFilesFromEnv({}, allowed), [allowed, join(homedir(), '.ssh')]);
  assert.throws(() => workerFilesFromEnv({ FERRY_WORKER_FILES: 'relative/dir' }), /FERRY_WORKER_FILES: "relative\/dir" is not an absolute directory/);
});

test('workerPaths finds every worker file an activity input names, at any depth, and no host-side path', () => {
  const input = {
    host: { name: 'web1', identityFile: '/k/id', deployTo: '/opt/apps' },
    app: 'hello',
    store: { kind: 'local', dir: '/var/store' },
    ssh: { knownHostsFile: '/k/known_hosts', configFile: 'none' },
    node: { cookieFile: '/k/cookie', linkVmArgs: '/etc/hello/vm.args' },
    projectDir: '/src/hello',
    release: { storeKey: '/var/store/hello_0.1.0.release.tar.gz' },
  };
  assert.deepEqual(workerPaths([input]), [
    ['SSH_IDENTITY_FILE', '/k/id'],
    ['RELEASE_STORE', '/var/store'],
    ['SSH_KNOWN_HOSTS', '/k/known_hosts'],
    ['COOKIE_FILE', '/k/cookie'],
    ['the project directory', '/src/hello'],
  ]);
  assert.deepEqual(workerPaths([{ store: '/var/bare' }, { store: { kind: 's3', bucket: 'b', prefix: '' } }]), [['RELEASE_STORE', '/var/bare']]);
});

test('a guarded activity refuses its input before it runs', async () => {
  const { allowed, outside } = tree();
  const ran: string[] = [];
  const activities = guardWorkerFiles([allowed], { configureNode: async (t: { node: { cookieFile: string } }) => void ran.push(t.node.cookieFile) });
  await activities.configureNode({ node: { cookieFile: join(allowed, 'cookie') } });
  await assert.rejects(activities.configureNode({ node: { cookieFile: join(outside, 'secret') } }), InputError);
  assert.deepEqual(ran, [join(allowed, 'cookie')]);
});
