import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import * as build from '../../../core/commands/build';
import * as node from '../../../core/commands/node';
import { and, toShell } from '../../../core/commands/shell';
import { releaseLayout } from '../../../core/domain/host';
import { releaseFileName } from '../../../core/domain/release';

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
  assert.equal(build.appupScriptPath('/b/hello'), '/b/hello/.git/ferry/appup.escript');
  assert.equal(toShell(build.prepareFerryDir('/b/my hello')), "mkdir -p '/b/my hello/.git/ferry'");
});

test('build.writeStdin writes through a temp name with a constant script', () => {
  assert.equal(toShell(build.writeStdin('/b/hello/.git/ferry/appup.escript')), `sh -c 'cat > "$1.tmp" && mv -f "$1.tmp" "$1"' write /b/hello/.git/ferry/appup.escript`);
});

test('build.writeStdin run by sh writes stdin to the file', () => {
  const file = path.join(tempDir(), 'a b.escript');
  assert.equal(sh(toShell(build.writeStdin(file)), 'main(_) -> ok.\n').status, 0);
  assert.equal(readFileSync(file, 'utf8'), 'main(_) -> ok.\n');
});

test("build.unpackOldRelease extracts only releases/<v1> and lib of the old tarball", () => {
  assert.equal(
    toShell(build.unpackOldRelease('/b/hello/.git/ferry/hello-0.2.0.tar.gz', REL, '0.2.0')),
    'tar -xzf /b/hello/.git/ferry/hello-0.2.0.tar.gz -C /b/hello/_build/prod/rel/hello releases/0.2.0 lib',
  );
});

test("build.readAppupIfPresent prints the app's own ebin/<app>.appup with a constant script", () => {
  assert.equal(toShell(build.readAppupIfPresent('/b/hello', 'hello')), `sh -c 'if [ -f "$1" ]; then cat "$1"; fi' appup /b/hello/ebin/hello.appup`);
});

test('build.readAppupIfPresent run by sh prints the appup, or nothing when there is none', () => {
  const dir = tempDir();
  assert.deepEqual([sh(toShell(build.readAppupIfPresent(dir, 'hello'))).status, sh(toShell(build.readAppupIfPresent(dir, 'hello'))).stdout], [0, '']);
  mkdirSync(path.join(dir, 'ebin'));
  writeFileSync(path.join(dir, 'ebin', 'hello.appup'), '{"0.3.0",[],[]}.\n');
  assert.equal(sh(toShell(build.readAppupIfPresent(dir, 'hello'))).stdout, '{"0.3.0",[],[]}.\n');
});

test("build.generateAppup runs Ferry's escript on both versions' ebin and writes ebin/<app>.appup", () => {
  assert.equal(
    toShell(build.generateAppup('/b/hello', REL, 'hello', '0.2.0', '0.3.0')),
    'escript /b/hello/.git/ferry/appup.escript hello 0.2.0 0.3.0 /b/hello/_build/prod/rel/hello/lib/hello-0.2.0/ebin /b/hello/_build/prod/rel/hello/lib/hello-0.3.0/ebin /b/hello/ebin/hello.appup',
  );
});

test('build.rebar3Relup makes the relup from v1, then the tarball again', () => {
  assert.equal(and(...build.rebar3Relup('hello', '0.3.0', '0.2.0')), 'rebar3 as prod relup -n hello -v 0.3.0 -u 0.2.0 && rebar3 as prod tar');
});

test('build.relupNames looks for the from-version as an instruction set in releases/<v2>/relup', () => {
  assert.equal(toShell(build.relupNames(REL, '0.3.0', '0.2.0')), `grep -qF '{"0.2.0",' /b/hello/_build/prod/rel/hello/releases/0.3.0/relup`);
});

test('build.relupNames run by sh accepts a relup from v1 and refuses one from another version', () => {
  const rel = tempDir();
  mkdirSync(path.join(rel, 'releases', '0.3.0'), { recursive: true });
  writeFileSync(path.join(rel, 'releases', '0.3.0', 'relup'), '{"0.3.0",\n [{"0.2.0",[],\n   [point_of_no_return]}],\n [{"0.2.0",[],[point_of_no_return]}]}.\n');
  assert.equal(sh(toShell(build.relupNames(rel, '0.3.0', '0.2.0'))).status, 0);
  assert.equal(sh(toShell(build.relupNames(rel, '0.3.0', '0.1.0'))).status, 1);
});

test('releaseFileName names an upgrade <app>_<vsn>.upgrade.tar.gz', () => {
  assert.equal(releaseFileName({ app: 'hello', version: '0.3.0', type: 'upgrade' }), 'hello_0.3.0.upgrade.tar.gz');
  assert.equal(releaseFileName({ app: 'hello', version: '0.3.0', type: 'release' }), 'hello_0.3.0.release.tar.gz');
});
