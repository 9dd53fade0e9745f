import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import * as release from '../../../core/commands/release';
import { toShell } from '../../../core/commands/shell';
import * as store from '../../../core/commands/store';
import { hostLine } from '../../../client/progress';

const made: string[] = [];
after(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Runs a builder's argv through a real `sh -c`, as the SSH pool sends it. */
const sh = (command: string, input?: string) => execFileSync('sh', ['-c', command], { encoding: 'utf8', input });

test('store.prepare makes the store and its temp directory', () => {
  assert.equal(toShell(store.prepare('/srv/my store')), "mkdir -p '/srv/my store/.tmp'");
});

test('store.listManifests prints every manifest followed by NUL, and nothing for an empty or missing store', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ferry store '));
  made.push(dir);
  assert.equal(sh(toShell(store.listManifests(dir))), '');
  assert.equal(sh(toShell(store.listManifests(path.join(dir, 'missing')))), '');
  writeFileSync(path.join(dir, 'hello_0.1.0.release.tar.gz.json'), '{"version":"0.1.0"}\n');
  writeFileSync(path.join(dir, 'hello_0.2.0.release.tar.gz.json'), '{"version":"0.2.0"}');
  writeFileSync(path.join(dir, 'hello_0.2.0.release.tar.gz'), 'tarball');
  mkdirSync(path.join(dir, '.tmp'));
  assert.deepEqual(sh(toShell(store.listManifests(dir))).split('\0'), ['{"version":"0.1.0"}\n', '{"version":"0.2.0"}', '']);
});

test('store.readIfPresent, writeStdin, place and remove keep paths out of the script', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ferry-store-'));
  made.push(dir);
  const file = path.join(dir, "it's.json");
  assert.equal(sh(toShell(store.readIfPresent(file))), '');
  sh(toShell(store.writeStdin(`${file}.tmp`)), '{"a":1}');
  sh(toShell(store.place(`${file}.tmp`, file)));
  assert.equal(sh(toShell(store.readIfPresent(file))), '{"a":1}');
  sh(toShell(store.remove(file, `${file}.missing`)));
  assert.equal(sh(toShell(store.readIfPresent(file))), '');
  assert.equal(toShell(store.remove('/srv/a', '/srv/b c')), "rm -f -- /srv/a '/srv/b c'");
});

test('release.download reads the URL from stdin, so it is never in argv', () => {
  assert.equal(toShell(release.download('/opt/ferry/hello/releases/0.2.0/hello.tar.gz.partial')), 'curl -fsS --retry 2 --speed-limit 1 --speed-time 20 -o /opt/ferry/hello/releases/0.2.0/hello.tar.gz.partial --config -');
  assert.equal(release.curlConfig('http://127.0.0.1:8533/b/k?X-Amz-Signature=ab&X-Amz-Expires=900'), 'url = "http://127.0.0.1:8533/b/k?X-Amz-Signature=ab&X-Amz-Expires=900"\n');
  assert.throws(() => release.curlConfig('http://x/"\nupload-file = /etc/shadow'));
  assert.throws(() => release.curlConfig('file:///etc/shadow'));
});

test('a host line names how the tarball came', () => {
  assert.equal(hostLine({ host: 'web1', step: 'done', version: '0.2.0', sent: true, via: 'presigned-url' }).replace(/\s+/g, ' ').trim(), '✓ web1 done 0.2.0 (via presigned URL, fetched by the host)');
  assert.equal(hostLine({ host: 'web1', step: 'done', version: '0.2.0', sent: false }).replace(/\s+/g, ' ').trim(), '✓ web1 done 0.2.0 (already uploaded)');
  assert.equal(hostLine({ host: 'web1', step: 'done', sent: true, via: 'store-host' }).replace(/\s+/g, ' ').trim(), '✓ web1 done (via the store host, through the worker)');
  // A hot upgrade: the node's OS pid, then how the upgrade tarball came.
  assert.equal(hostLine({ host: 'web1', step: 'done', version: '0.3.0', pid: 42, sent: true, via: 'worker' }).replace(/\s+/g, ' ').trim(), '✓ web1 done 0.3.0 (pid 42) (via the worker)');
  assert.equal(hostLine({ host: 'web1', step: 'skipped', version: '0.3.0', pid: 42 }).replace(/\s+/g, ' ').trim(), '= web1 skipped already on 0.3.0 (pid 42)');
});
