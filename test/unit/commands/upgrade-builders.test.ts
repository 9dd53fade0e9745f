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

test('node.upgrade runs the release script under a 300 s timeout', () => {
  assert.equal(toShell(node.upgrade(layout, '0.3.0')), 'timeout 300 env PIPE_DIR=/opt/ferry/hello/ferry/pipes/ /opt/ferry/hello/bin/hello upgrade 0.3.0');
});

test('node.upgrade quotes a deploy root that has a space', () => {
  assert.equal(toShell(node.upgrade(spaced, '0.3.0')), "timeout 300 env 'PIPE_DIR=/opt/my app/hello/ferry/pipes/' '/opt/my app/hello/bin/hello' upgrade 0.3.0");
});

test('node.downgrade runs the release script under a 300 s timeout', () => {
  assert.equal(toShell(node.downgrade(layout, '0.2.0')), 'timeout 300 env PIPE_DIR=/opt/ferry/hello/ferry/pipes/ /opt/ferry/hello/bin/hello downgrade 0.2.0');
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
    `sh -c 'rm -rf "$2" && mkdir -p "$2" && tar -xzf "$1" -C "$2" "releases/$3" lib' unpack-old /b/hello/.git/ferry/hello-0.2.0.tar.gz /b/hello/.git/ferry/old-release 0.2.0`,
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
    `sh -c 'tar -xzOf "$1" "releases/$2/relup" | grep -qF "{\\"$3\\","' relup-in-tarball /r/hello-0.3.0.tar.gz 0.3.0 0.2.0`,
  );
});

test('build.tarballHasRelup run by sh accepts a tarball whose relup is from v1, and refuses another from-version or no relup', () => {
  const relup = '{"0.3.0",\n [{"0.2.0",[],\n   [point_of_no_return]}],\n [{"0.2.0",[],[point_of_no_return]}]}.\n';
  const good = tarball({ 'releases/0.3.0/relup': relup });
  assert.equal(sh(toShell(build.tarballHasRelup(good, '0.3.0', '0.2.0'))).status, 0);
  assert.equal(sh(toShell(build.tarballHasRelup(good, '0.3.0', '0.1.0'))).status, 1);
  assert.notEqual(sh(toShell(build.tarballHasRelup(tarball({ 'releases/0.3.0/start.boot': '' }), '0.3.0', '0.2.0'))).status, 0);
});

test('releaseFileName names an upgrade <app>_<vsn>.upgrade.tar.gz; a generated appup is kept beside it per application', () => {
  assert.equal(releaseFileName({ app: 'hello', version: '0.3.0', type: 'upgrade' }), 'hello_0.3.0.upgrade.tar.gz');
  assert.equal(releaseFileName({ app: 'hello', version: '0.3.0', type: 'release' }), 'hello_0.3.0.release.tar.gz');
  assert.equal(generatedAppupName({ app: 'tally', version: '2.0.0' }, 'tally_core'), 'tally_2.0.0.upgrade.tar.gz.tally_core.appup');
});
