import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import * as build from '../../../core/commands/build';
import * as node from '../../../core/commands/node';
import { toShell } from '../../../core/commands/shell';
import { releaseLayout } from '../../../core/domain/host';
import { generatedAppupName, releaseFileName } from '../../../core/domain/release';

const layout = releaseLayout('/opt/ferry', 'hello');
const spaced = releaseLayout('/opt/my app', 'hello');
const REL = '/b/hello/_build/prod/rel/hello';

const made: string[] = [];
after(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
function tempDir(): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'ferry-upgrade-builders-')));
  made.push(dir);
  return dir;
}
const sh = (command: string, stdin?: string) => spawnSync('sh', ['-c', command], { encoding: 'utf8', input: stdin });

// --- node: upgrade, downgrade, eval, pid ---

test('node.upgrade and node.downgrade run the control script under a 300 s timeout, with the tarball for an upgrade', () => {
  assert.ok(toShell(node.upgrade(layout, '0.3.0')).startsWith('timeout 300 env PIPE_DIR=/opt/ferry/hello/ferry/pipes/ sh -c '));
  assert.ok(toShell(node.upgrade(layout, '0.3.0')).endsWith(' control /opt/ferry/hello /opt/ferry/hello/bin/hello upgrade 0.3.0 /opt/ferry/hello/releases/0.3.0/hello.tar.gz'));
  assert.ok(toShell(node.upgrade(spaced, '0.3.0')).endsWith(" control '/opt/my app/hello' '/opt/my app/hello/bin/hello' upgrade 0.3.0 '/opt/my app/hello/releases/0.3.0/hello.tar.gz'"));
  assert.ok(toShell(node.downgrade(layout, '0.2.0')).endsWith(' control /opt/ferry/hello /opt/ferry/hello/bin/hello downgrade 0.2.0'));
});

/** A deploy root whose bin/hello prints its arguments, one per line; with `mix`, a mix release (releases/COOKIE). */
function fakeRoot(mix: boolean): ReturnType<typeof releaseLayout> {
  const l = releaseLayout(tempDir(), 'hello');
  mkdirSync(path.dirname(l.bin), { recursive: true });
  mkdirSync(path.join(l.releasesDir, '0.2.0'), { recursive: true });
  writeFileSync(l.bin, '#!/bin/sh\nfor a in "$@"; do echo "ARG $a"; done\n', { mode: 0o755 });
  writeFileSync(path.join(l.releasesDir, 'start_erl.data'), '13.1.5 0.2.0');
  if (mix) writeFileSync(path.join(l.releasesDir, 'COOKIE'), 'c');
  return l;
}

test('node.upgrade run by sh: relx gets its own `upgrade VSN`; mix gets the tarball unpacked beside the node, then release_handler through rpc', () => {
  const relx = fakeRoot(false);
  assert.equal(sh(toShell(node.upgrade(relx, '0.3.0'))).stdout, 'ARG upgrade\nARG 0.3.0\n');
  assert.equal(sh(toShell(node.downgrade(relx, '0.2.0'))).stdout, 'ARG downgrade\nARG 0.2.0\n');

  const mix = fakeRoot(true);
  const src = tempDir();
  for (const dir of ['releases/0.3.0', 'lib/hello-0.3.0/ebin', 'lib/kernel-8.5.3/ebin', 'bin']) mkdirSync(path.join(src, dir), { recursive: true });
  writeFileSync(path.join(src, 'releases/0.3.0/relup'), '{"0.3.0",[],[]}.');
  writeFileSync(path.join(src, 'releases/start_erl.data'), '13.1.5 0.3.0');
  writeFileSync(path.join(src, 'lib/kernel-8.5.3/ebin/new'), 'new');
  writeFileSync(path.join(src, 'bin/hello'), 'new script');
  mkdirSync(path.join(mix.root, 'lib/kernel-8.5.3/ebin'), { recursive: true });
  writeFileSync(path.join(mix.root, 'lib/kernel-8.5.3/ebin/old'), 'old');
  mkdirSync(path.join(mix.releasesDir, '0.3.0'));
  spawnSync('tar', ['-czf', mix.tarball('0.3.0'), '-C', src, '.']);
  // The fake node prints no "installed" line: exit 4 (relx's code for a failed install).
  const up = sh(toShell(node.upgrade(mix, '0.3.0')));
  assert.equal(up.status, 4, up.stderr);
  assert.match(up.stdout, /^ARG rpc\nARG to = "0\.3\.0"; try do\n/);
  assert.match(up.stdout, /:release_handler\.install_release\(vsn/);
  assert.equal(readFileSync(path.join(mix.releasesDir, '0.3.0/relup'), 'utf8'), '{"0.3.0",[],[]}.');
  assert.deepEqual(readdirSync(path.join(mix.root, 'lib')).sort(), ['hello-0.3.0', 'kernel-8.5.3']);
  assert.deepEqual(readdirSync(path.join(mix.root, 'lib/kernel-8.5.3/ebin')), ['old'], 'a lib directory the node has is kept');
  assert.equal(readFileSync(path.join(mix.releasesDir, 'start_erl.data'), 'utf8'), '13.1.5 0.2.0', 'the boot version moves only with make_permanent');
  assert.match(readFileSync(mix.bin, 'utf8'), /ARG/, 'bin/ is not replaced');
  assert.deepEqual(readdirSync(path.join(mix.releasesDir, '0.3.0')).sort(), ['hello.tar.gz', 'relup']);

  const noRelup = sh(toShell(node.upgrade(mix, '0.2.0')));
  assert.equal(noRelup.status, 2, 'no tarball');
  assert.match(noRelup.stderr, /no upgrade tarball/);
  writeFileSync(mix.bin, '#!/bin/sh\necho "0.2.0 installed and made permanent"\n');
  const down = sh(toShell(node.downgrade(mix, '0.2.0')));
  assert.equal(down.status, 0, down.stderr);
  assert.equal(down.stdout, '0.2.0 installed and made permanent\n');
});

test('node.evaluate passes the expression as one quoted argument', () => {
  assert.ok(
    toShell(node.evaluate(layout, "hello_server:bump(), 'x'.")).endsWith(
      ` control /opt/ferry/hello /opt/ferry/hello/bin/hello eval 'hello_server:bump(), '\\''x'\\''.'`,
    ),
  );
});

test('node.parsePid reads the pid the script prints, and nothing else', () => {
  assert.equal(node.parsePid('12345\n'), 12345);
  assert.equal(node.parsePid('Node is not running!\n'), undefined);
  assert.equal(node.parsePid(''), undefined);
});

// --- build: the relup recipe ---

test('build.cleanReleaseDir removes the release directory', () => {
  assert.equal(toShell(build.cleanReleaseDir(REL)), 'rm -rf -- /b/hello/_build/prod/rel/hello');
});

test("build.ferryDir is inside BUILD_AT's .git, which checkouts and git clean leave alone", () => {
  assert.equal(build.ferryDir('/b/hello'), '/b/hello/.git/ferry');
  assert.equal(build.oldTarballPath('/b/hello', 'hello', '0.2.0'), '/b/hello/.git/ferry/hello-0.2.0.tar.gz');
  assert.equal(build.oldReleaseDir('/b/hello'), '/b/hello/.git/ferry/old-release');
  assert.equal(build.upgradeScriptPath('/b/hello'), '/b/hello/.git/ferry/upgrade.escript');
  assert.equal(toShell(build.prepareFerryDir('/b/my hello')), "mkdir -p '/b/my hello/.git/ferry'");
});

test('build.writeStdin writes through a temp name with a constant script', () => {
  assert.equal(toShell(build.writeStdin('/b/hello/.git/ferry/upgrade.escript')), `sh -c 'cat > "$1.tmp" && mv -f "$1.tmp" "$1"' write /b/hello/.git/ferry/upgrade.escript`);
});

test('build.writeStdin run by sh writes stdin to the file', () => {
  const file = path.join(tempDir(), 'a b.escript');
  assert.equal(sh(toShell(build.writeStdin(file)), 'main(_) -> ok.\n').status, 0);
  assert.equal(readFileSync(file, 'utf8'), 'main(_) -> ok.\n');
});

test('build.unpackOldRelease empties its own directory, then extracts only releases/<v1> and lib of the old tarball', () => {
  assert.equal(
    toShell(build.unpackOldRelease('/b/hello/.git/ferry/hello-0.2.0.tar.gz', '/b/hello/.git/ferry/old-release', '0.2.0')),
    `sh -c 'rm -rf "$2" && mkdir -p "$2" && { tar -xzf "$1" -C "$2" "releases/$3" lib 2>/dev/null || { rm -rf "$2" && mkdir -p "$2" && tar -xzf "$1" -C "$2" "./releases/$3" ./lib; }; }' unpack-old /b/hello/.git/ferry/hello-0.2.0.tar.gz /b/hello/.git/ferry/old-release 0.2.0`,
  );
});

/** A release tarball with the given files (path -> text), made by the system's tar. */
function tarball(files: Record<string, string>): string {
  const dir = tempDir();
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, 'rel', name)), { recursive: true });
    writeFileSync(path.join(dir, 'rel', name), text);
  }
  // Members named as relx names them (`releases/...`, no leading `./`).
  assert.equal(spawnSync('tar', ['-czf', path.join(dir, 'r.tar.gz'), '-C', path.join(dir, 'rel'), ...readdirSync(path.join(dir, 'rel'))]).status, 0);
  return path.join(dir, 'r.tar.gz');
}

test('build.unpackOldRelease run by sh leaves only the old release there, even over an earlier run', () => {
  const old = tarball({ 'releases/1/hello.rel': 'rel', 'lib/hello-1/ebin/hello.app': 'app', 'erts-13/bin/erl': 'erl', 'bin/hello': 'script' });
  const dir = path.join(tempDir(), 'old release');
  mkdirSync(path.join(dir, 'lib', 'stale-0'), { recursive: true });
  assert.equal(sh(toShell(build.unpackOldRelease(old, dir, '1'))).status, 0);
  assert.deepEqual(sh(`cd '${dir}' && find . -type f | sort`).stdout, './lib/hello-1/ebin/hello.app\n./releases/1/hello.rel\n');
  // A mix release's tarball, as Ferry makes it: members named ./releases/..., ./lib/...
  const src = path.dirname(old);
  const mix = path.join(tempDir(), 'mix.tar.gz');
  assert.equal(spawnSync('tar', ['-czf', mix, '-C', path.join(src, 'rel'), '.']).status, 0);
  assert.equal(sh(toShell(build.unpackOldRelease(mix, dir, '1'))).status, 0);
  assert.deepEqual(sh(`cd '${dir}' && find . -type f | sort`).stdout, './lib/hello-1/ebin/hello.app\n./releases/1/hello.rel\n');
});

test("build.makeRelup runs Ferry's upgrade builder on the old and the new release directory", () => {
  assert.equal(
    toShell(build.makeRelup('/b/hello', 'hello', '0.2.0', '/b/hello/.git/ferry/old-release', '0.3.0', REL)),
    'escript /b/hello/.git/ferry/upgrade.escript relup hello 0.2.0 /b/hello/.git/ferry/old-release 0.3.0 /b/hello/_build/prod/rel/hello',
  );
});

test('build.tarballHasRelup reads releases/<v2>/relup from the tarball itself', () => {
  assert.equal(
    toShell(build.tarballHasRelup('/r/hello-0.3.0.tar.gz', '0.3.0', '0.2.0')),
    `sh -c '{ tar -xzOf "$1" "releases/$2/relup" 2>/dev/null || tar -xzOf "$1" "./releases/$2/relup"; } | grep -qF "{\\"$3\\","' relup-in-tarball /r/hello-0.3.0.tar.gz 0.3.0 0.2.0`,
  );
});

test('build.tarballHasRelup run by sh accepts a tarball whose relup is from v1, and refuses another from-version or no relup', () => {
  const relup = '{"0.3.0",\n [{"0.2.0",[],\n   [point_of_no_return]}],\n [{"0.2.0",[],[point_of_no_return]}]}.\n';
  const good = tarball({ 'releases/0.3.0/relup': relup });
  assert.equal(sh(toShell(build.tarballHasRelup(good, '0.3.0', '0.2.0'))).status, 0);
  assert.equal(sh(toShell(build.tarballHasRelup(good, '0.3.0', '0.1.0'))).status, 1);
  assert.notEqual(sh(toShell(build.tarballHasRelup(tarball({ 'releases/0.3.0/start.boot': '' }), '0.3.0', '0.2.0'))).status, 0);
  // A mix release's tarball, as Ferry makes it (`tar -C dir .`): its members start with `./`.
  const dir = tempDir();
  mkdirSync(path.join(dir, 'releases/0.3.0'), { recursive: true });
  writeFileSync(path.join(dir, 'releases/0.3.0/relup'), relup);
  const mix = path.join(tempDir(), 'mix.tar.gz');
  spawnSync('tar', ['-czf', mix, '-C', dir, '.']);
  assert.equal(sh(toShell(build.tarballHasRelup(mix, '0.3.0', '0.2.0'))).status, 0);
  assert.equal(sh(toShell(build.tarballHasRelup(mix, '0.3.0', '0.1.0'))).status, 1);
});

test('releaseFileName names an upgrade <app>_<vsn>.upgrade.tar.gz; a generated appup is kept beside it per application', () => {
  assert.equal(releaseFileName({ app: 'hello', version: '0.3.0', type: 'upgrade' }), 'hello_0.3.0.upgrade.tar.gz');
  assert.equal(releaseFileName({ app: 'hello', version: '0.3.0', type: 'release' }), 'hello_0.3.0.release.tar.gz');
  assert.equal(generatedAppupName({ app: 'tally', version: '2.0.0' }, 'tally_core'), 'tally_2.0.0.upgrade.tar.gz.tally_core.appup');
});
