import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import * as build from '../../../core/commands/build';
import * as node from '../../../core/commands/node';
import * as release from '../../../core/commands/release';
import { and, toShell } from '../../../core/commands/shell';
import { releaseLayout } from '../../../core/domain/host';
import { version } from '../../../core/domain/release';

const layout = releaseLayout('/opt/ferry', 'hello');
const spaced = releaseLayout('/opt/my app', 'hello');
const SHA = 'a'.repeat(64);

const made: string[] = [];
after(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A real, absolute temp directory (realpath, so paths compare equal where /tmp is a symlink). */
function tempDir(): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'ferry-builders-')));
  made.push(dir);
  return dir;
}

/** Runs a command string with a real `sh -c`; returns its exit status and output. */
function sh(command: string, cwd?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('sh', ['-c', command], { cwd, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

// --- node: the release's control script ---

/** The words of a control command after the constant script: `control <root> <bin> <args...>`. */
function controlArgs(argv: readonly string[]): string[] {
  assert.deepEqual(argv.slice(0, 5), ['timeout', '60', 'env', `PIPE_DIR=${argv[3]!.slice('PIPE_DIR='.length)}`, 'sh']);
  assert.equal(argv[5], '-c');
  return argv.slice(7);
}

test('node.start runs the daemon under a timeout with pipes under the deploy root', () => {
  const argv = node.start(layout);
  assert.equal(argv[3], 'PIPE_DIR=/opt/ferry/hello/ferry/pipes/');
  assert.deepEqual(controlArgs(argv), ['control', '/opt/ferry/hello', '/opt/ferry/hello/bin/hello', 'daemon']);
});

test('node.start quotes a deploy root that has a space', () => {
  assert.match(toShell(node.start(spaced)), / control '\/opt\/my app\/hello' '\/opt\/my app\/hello\/bin\/hello' daemon$/);
});

test('node.stop, ping, osPid and releases pass their command to the control script', () => {
  assert.deepEqual(controlArgs(node.stop(layout)).slice(3), ['stop']);
  assert.deepEqual(controlArgs(node.ping(layout)).slice(3), ['ping']);
  assert.deepEqual(controlArgs(node.osPid(layout)).slice(3), ['pid']);
  assert.deepEqual(controlArgs(node.releases(layout)).slice(3), ['ferry-releases']);
});

/** A deploy root with a fake `bin/hello` that prints its environment's node name and its arguments. */
function fakeControl(mix: boolean) {
  const l = releaseLayout(tempDir(), 'hello');
  mkdirSync(path.dirname(l.bin), { recursive: true });
  mkdirSync(path.dirname(l.vmArgs), { recursive: true });
  writeFileSync(l.vmArgs, '-name hello_2231@127.0.0.1\n-setcookie c\n');
  writeFileSync(l.bin, '#!/bin/sh\necho "node=${RELEASE_NODE:-} dist=${RELEASE_DISTRIBUTION:-}"; for a in "$@"; do echo "[$a]"; done\n', { mode: 0o755 });
  if (mix) {
    mkdirSync(l.releasesDir, { recursive: true });
    writeFileSync(path.join(l.releasesDir, 'COOKIE'), 'c');
  }
  return l;
}

test('node.releases run by sh on a relx release evaluates which_releases on the node', () => {
  const l = fakeControl(false);
  const r = sh(toShell(node.releases(l)));
  assert.equal(r.stdout, 'node= dist=\n[eval]\n[[{V,S} || {_,V,_,S} <- release_handler:which_releases()].]\n');
});

test('node.releases and node.ping run by sh on a mix release use rpc with the node name from vm.args', () => {
  const l = fakeControl(true);
  assert.equal(sh(toShell(node.ping(l))).stdout, 'node=hello_2231@127.0.0.1 dist=name\n[rpc]\n[IO.puts(:pong)]\n');
  assert.equal(
    sh(toShell(node.releases(l))).stdout,
    'node=hello_2231@127.0.0.1 dist=name\n[rpc]\n[if Process.whereis(:release_handler) do ' +
      'IO.puts(:io_lib.format(~c"~p", [Enum.map(:release_handler.which_releases(), fn {_, v, _, s} -> {v, s} end)])) ' +
      'else IO.puts(~s([{"#{System.get_env("RELEASE_VSN")}",permanent}])) end]\n',
  );
  assert.equal(sh(toShell(node.start(l))).stdout, 'node=hello_2231@127.0.0.1 dist=name\n[daemon]\n');
});

test('node.runningVersion reads the permanent version of a single release', () => {
  assert.equal(node.runningVersion('[{"0.1.0", permanent}]\n'), '0.1.0');
});

test('node.runningVersion prefers the current version to the permanent one mid-upgrade', () => {
  assert.equal(node.runningVersion('[{"0.2.0",current},{"0.1.0",permanent}]'), '0.2.0');
});

test('node.runningVersion prefers current even when it is listed after permanent', () => {
  assert.equal(node.runningVersion('[{"0.1.0",permanent},{"0.2.0",current}]\n'), '0.2.0');
});

test('node.runningVersion ignores unpacked and old releases', () => {
  assert.equal(node.runningVersion('[{"0.3.0",unpacked},{"0.2.0",permanent},{"0.1.0",old}]\n'), '0.2.0');
});

test('node.runningVersion is undefined when the node is not running', () => {
  assert.equal(node.runningVersion('Node is not running!\n'), undefined);
});

test('node.runningVersion is undefined for an empty release list', () => {
  assert.equal(node.runningVersion('[]\n'), undefined);
});

/** The parameters node.configure passes after its constant script: `sh -c <script> configure <params...>`. */
function configureParams(argv: readonly string[]): string[] {
  assert.deepEqual(argv.slice(0, 2), ['sh', '-c']);
  assert.equal(argv[2], node.configure(layout, '0.2.0', undefined)[2], 'the script is the same for every call');
  assert.equal(argv[3], 'configure');
  return argv.slice(4);
}

test('node.configure passes root, version, node name and vm.args path as parameters of a constant script', () => {
  assert.deepEqual(configureParams(node.configure(layout, '0.1.0', 'hello@10.0.0.5')), ['/opt/ferry/hello', '0.1.0', 'hello@10.0.0.5', '/opt/ferry/hello/ferry/vm.args', '', '']);
  assert.deepEqual(configureParams(node.configure(layout, '0.1.0', undefined)), ['/opt/ferry/hello', '0.1.0', '', '/opt/ferry/hello/ferry/vm.args', '', '']);
});

test('node.configure quotes a deploy root that has a space', () => {
  assert.ok(
    toShell(node.configure(spaced, '0.1.0', 'hello@10.0.0.5')).endsWith(" configure '/opt/my app/hello' 0.1.0 hello@10.0.0.5 '/opt/my app/hello/ferry/vm.args' '' ''"),
  );
});

test('node.configure passes the linked vm.args, the cookie file and each extra line as parameters', () => {
  assert.deepEqual(configureParams(node.configure(layout, '0.1.0', 'a@h', { linkVmArgs: '/etc/hello/vm.args', cookie: true, extraArgs: ['-kernel x "[\'b@h\']"'] })), [
    '/opt/ferry/hello', '0.1.0', 'a@h', '/opt/ferry/hello/ferry/vm.args', '/etc/hello/vm.args', '/opt/ferry/hello/ferry/cookie', '-kernel x "[\'b@h\']"',
  ]);
});

const cluster = { mode: 'optional' as const, nodes: ['n1@127.0.0.1', 'n2@127.0.0.1', 'n3@127.0.0.1'], timeoutMs: 30000 };

test('node.clusterArgs lists the other nodes, double-quoted for the args file, and the timeout', () => {
  assert.deepEqual(node.clusterArgs(cluster, 'n2@127.0.0.1'), [
    `-kernel sync_nodes_optional "['n1@127.0.0.1','n3@127.0.0.1']"`,
    '-kernel sync_nodes_timeout 30000',
  ]);
  assert.equal(node.clusterArgs({ ...cluster, mode: 'mandatory' }, 'n1@127.0.0.1')[0], `-kernel sync_nodes_mandatory "['n2@127.0.0.1','n3@127.0.0.1']"`);
});

test('node.clusterArgs refuses a node name that would break the Erlang list', () => {
  assert.throws(() => node.clusterArgs({ ...cluster, nodes: ["x'@h"] }, 'n1@127.0.0.1'), /invalid node name/);
});

test('node.clusterArgs lines are read by erl as the kernel settings', () => {
  const dir = tempDir();
  const file = path.join(dir, 'vm.args');
  writeFileSync(file, `${node.clusterArgs(cluster, 'n1@127.0.0.1').join('\n')}\n`);
  const out = execFileSync(
    'erl',
    ['-noshell', '-args_file', file, '-eval', 'io:format("~p~n", [[application:get_env(kernel, K) || K <- [sync_nodes_optional, sync_nodes_timeout]]]), halt().'],
    { encoding: 'utf8' },
  );
  assert.equal(out.trim(), "[{ok,['n2@127.0.0.1','n3@127.0.0.1']},{ok,30000}]");
});

test('node.checkFiles, nameIn, linkReleaseFile and writeCookie quote their paths', () => {
  assert.equal(
    toShell(node.checkFiles(['/etc/a b', '/etc/c'])),
    `sh -c 'for f in "$@"; do if [ -f "$f" ]; then echo "ok $f"; else echo "missing $f"; fi; done' check-files '/etc/a b' /etc/c`,
  );
  assert.deepEqual(node.missingFiles('ok /etc/a b\nmissing /etc/c\n'), ['/etc/c']);
  assert.match(toShell(node.nameIn('/etc/my vm.args')), / name-in '\/etc\/my vm.args'$/);
  assert.equal(
    toShell(node.linkReleaseFile(spaced, '0.1.0', 'sys.config', '/etc/hello.config')),
    `sh -c 'set -e; rm -f "$1.src"; ln -sfn "$2" "$1"' link-config '/opt/my app/hello/releases/0.1.0/sys.config' /etc/hello.config`,
  );
  assert.match(toShell(node.writeCookie(spaced)), / write-cookie '\/opt\/my app\/hello\/ferry\/cookie'$/);
});

test('node.parseClusterView reads the node\'s own name, then the nodes it sees, sorted (relx and mix output)', () => {
  assert.deepEqual(node.parseClusterView("['hello_2561@127.0.0.1','hello_2563@127.0.0.1','hello_2562@127.0.0.1']\n"), {
    node: 'hello_2561@127.0.0.1',
    sees: ['hello_2562@127.0.0.1', 'hello_2563@127.0.0.1'],
  });
  assert.deepEqual(node.parseClusterView('[hello@vm]\n'), { node: 'hello@vm', sees: [] });
  assert.deepEqual(node.parseClusterView('[:"hello_mix@vm", :"other@vm"]\n'), { node: 'hello_mix@vm', sees: ['other@vm'] });
  assert.equal(node.parseClusterView('Node is not running!\n'), undefined);
});

test('node.clusterView run by sh asks a relx node for [node()|nodes()] and a mix node through rpc', () => {
  assert.equal(sh(toShell(node.clusterView(fakeControl(false)))).stdout, 'node= dist=\n[eval]\n[[node()|nodes()].]\n');
  assert.equal(sh(toShell(node.clusterView(fakeControl(true)))).stdout, 'node=hello_2231@127.0.0.1 dist=name\n[rpc]\n[IO.inspect([node() | Node.list()])]\n');
});

test('the mix control wrapper takes -sname from Ferry\'s vm.args as RELEASE_DISTRIBUTION=sname, and sets nothing without a name line', () => {
  const l = fakeControl(true);
  writeFileSync(l.vmArgs, '-sname hello_2231@localhost\n');
  assert.equal(sh(toShell(node.start(l))).stdout, 'node=hello_2231@localhost dist=sname\n[daemon]\n');
  writeFileSync(l.vmArgs, '## mix\'s own vm.args\n+sbwt none\n');
  assert.equal(sh(toShell(node.start(l))).stdout, 'node= dist=\n[daemon]\n', "mix's own defaults (or its env.sh) apply");
});

test('node.configure with a linked vm.args includes it, takes its cookie line and appends the cluster lines', () => {
  const l = fakeRelease('0.1.0', 'vm.args', '-name hello@127.0.0.1\n-setcookie c\n');
  const linked = path.join(path.dirname(l.root), 'node.vm.args');
  writeFileSync(linked, '-name n1@127.0.0.1\n-setcookie mine\n+K true\n');
  const r = sh(toShell(node.configure(l, '0.1.0', 'n1@127.0.0.1', { linkVmArgs: linked, extraArgs: node.clusterArgs(cluster, 'n1@127.0.0.1') })));
  assert.equal(r.status, 0, r.stderr);
  assertConfigured(
    l,
    `-args_file ${linked}\n-setcookie mine\n-kernel sync_nodes_optional "['n2@127.0.0.1','n3@127.0.0.1']"\n-kernel sync_nodes_timeout 30000\n`,
  );
  assert.equal(lstatSync(l.vmArgs).mode & 0o777, 0o600);
});

test('node.configure with a cookie file replaces the release cookie by it', () => {
  const l = fakeRelease('0.1.0', 'vm.args.src', '-name hello@127.0.0.1\n-setcookie c\n+K true\n');
  assert.equal(sh(toShell(node.writeCookie(l)).replace(/^/, 'echo secret_cookie | ')).status, 0);
  assert.equal(lstatSync(l.cookie).mode & 0o777, 0o400);
  const r = sh(toShell(node.configure(l, '0.1.0', 'hello_2231@127.0.0.1', { cookie: true })));
  assert.equal(r.status, 0, r.stderr);
  assertConfigured(l, '-name hello_2231@127.0.0.1\n+K true\n-setcookie secret_cookie\n');
  // Again, with a new cookie: the 0400 file is replaced, not written through.
  assert.equal(sh(toShell(node.writeCookie(l)).replace(/^/, 'echo other | ')).status, 0);
  assert.equal(readFileSync(l.cookie, 'utf8'), 'other\n');
});

test('node.linkReleaseFile replaces the release file and its .src by a link; repeatable', () => {
  const l = fakeRelease('0.1.0', 'sys.config.src', '[].');
  writeFileSync(path.join(l.releaseDir('0.1.0'), 'sys.config'), '[].');
  const target = path.join(path.dirname(l.root), 'host.config');
  writeFileSync(target, '[{hello, []}].');
  for (let i = 0; i < 2; i++) assert.equal(sh(toShell(node.linkReleaseFile(l, '0.1.0', 'sys.config', target))).status, 0);
  const file = path.join(l.releaseDir('0.1.0'), 'sys.config');
  assert.equal(readlinkSync(file), target);
  assert.equal(existsSync(`${file}.src`), false);
});

test('node.checkFiles and nameIn run by sh report a missing file and the -name of a vm.args', () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'vm.args'), '## comment\n  -name n2@127.0.0.1\n-setcookie c\n');
  const check = sh(toShell(node.checkFiles([path.join(dir, 'vm.args'), path.join(dir, 'nope')])));
  assert.deepEqual(node.missingFiles(check.stdout), [path.join(dir, 'nope')]);
  assert.equal(sh(toShell(node.nameIn(path.join(dir, 'vm.args')))).stdout, 'n2@127.0.0.1\n');
});

/** A deploy root under a temp dir with `releases/<v>/<file>` holding `text`. */
function fakeRelease(v: string, file: string | undefined, text = '') {
  const l = releaseLayout(tempDir(), 'hello');
  mkdirSync(l.releaseDir(v), { recursive: true });
  if (file) writeFileSync(path.join(l.releaseDir(v), file), text);
  return l;
}

function assertConfigured(l: ReturnType<typeof releaseLayout>, expected: string): void {
  assert.equal(readFileSync(l.vmArgs, 'utf8'), expected);
  const link = path.join(l.root, 'vm.args');
  assert.equal(lstatSync(link).isSymbolicLink(), true);
  assert.equal(readlinkSync(link), l.vmArgs);
  assert.equal(readFileSync(link, 'utf8'), expected);
  assert.equal(existsSync(`${l.vmArgs}.tmp`), false);
}

test('node.configure run by sh replaces the node name in vm.args.src and links <root>/vm.args to the result', () => {
  const l = fakeRelease('0.1.0', 'vm.args.src', '-name hello@127.0.0.1\n-setcookie c\n+K true\n');
  const r = sh(toShell(node.configure(l, '0.1.0', 'hello_2231@127.0.0.1')));
  assert.equal(r.status, 0, r.stderr);
  assertConfigured(l, '-name hello_2231@127.0.0.1\n-setcookie c\n+K true\n');
});

test('node.configure run twice by sh gives the same files', () => {
  const l = fakeRelease('0.1.0', 'vm.args.src', '-name hello@127.0.0.1\n-setcookie c\n+K true\n');
  const command = toShell(node.configure(l, '0.1.0', 'hello_2231@127.0.0.1'));
  assert.equal(sh(command).status, 0);
  const r = sh(command);
  assert.equal(r.status, 0, r.stderr);
  assertConfigured(l, '-name hello_2231@127.0.0.1\n-setcookie c\n+K true\n');
});

test('node.configure run by sh falls back to vm.args and drops an indented -sname line', () => {
  const l = fakeRelease('0.1.0', 'vm.args', '  -sname hello\n-setcookie c\n-namespace kept\n');
  const r = sh(toShell(node.configure(l, '0.1.0', 'hello_2231@127.0.0.1')));
  assert.equal(r.status, 0, r.stderr);
  assertConfigured(l, '-name hello_2231@127.0.0.1\n-setcookie c\n-namespace kept\n');
});

test('node.configure run by sh without a node name keeps the release\'s -sname line and renders ${VAR} as relx does', () => {
  const l = fakeRelease('0.1.0', 'vm.args.src', '-sname ${NODE_BASE:-hello}\n-setcookie c\n+S ${SCHEDULERS}\n-x ${AMP}\n## ${REL_NAME} ${RELEASE_VSN} ${UNSET_VAR}\n');
  const r = sh(`SCHEDULERS=4 AMP='a&b' ${toShell(node.configure(l, '0.1.0', undefined))}`);
  assert.equal(r.status, 0, r.stderr);
  assertConfigured(l, '-sname hello\n-setcookie c\n+S 4\n-x a&b\n## hello 0.1.0 \n');
});

test('node.configure run by sh without a node name but with a cookie file replaces only the cookie', () => {
  const l = fakeRelease('0.1.0', 'vm.args', '-name hello@127.0.0.1\n-setcookie c\n');
  assert.equal(sh(toShell(node.writeCookie(l)).replace(/^/, 'echo secret_cookie | ')).status, 0);
  const r = sh(toShell(node.configure(l, '0.1.0', undefined, { cookie: true })));
  assert.equal(r.status, 0, r.stderr);
  assertConfigured(l, '-name hello@127.0.0.1\n-setcookie secret_cookie\n');
});

test('node.configure run by sh keeps the release\'s -sname for Ferry\'s name when its host has no dot, else -name', () => {
  const l = fakeRelease('0.1.0', 'vm.args.src', '-sname hello\n-setcookie c\n');
  assert.equal(sh(toShell(node.configure(l, '0.1.0', 'hello_2231@localhost'))).status, 0);
  assertConfigured(l, '-sname hello_2231@localhost\n-setcookie c\n');
  assert.equal(sh(toShell(node.configure(l, '0.1.0', 'hello_2231@10.0.0.5'))).status, 0);
  assertConfigured(l, '-name hello_2231@10.0.0.5\n-setcookie c\n');
});

test('node.configure run by sh writes only the node name when the release has no vm.args', () => {
  const l = fakeRelease('0.1.0', undefined);
  const r = sh(toShell(node.configure(l, '0.1.0', 'hello_2231@127.0.0.1')));
  assert.equal(r.status, 0, r.stderr);
  assertConfigured(l, '-name hello_2231@127.0.0.1\n');
});

// --- release: uploads and unpacking ---

test('release.partialPath appends .partial', () => {
  assert.equal(release.partialPath('/opt/ferry/hello/releases/0.2.0/hello.tar.gz'), '/opt/ferry/hello/releases/0.2.0/hello.tar.gz.partial');
});

test('release.surveyUpload passes its paths as parameters of a constant script, quoted when they have a space', () => {
  const final = spaced.tarball('0.2.0');
  assert.equal(
    toShell(release.surveyUpload(spaced.root, spaced.releaseDir('0.2.0'), final, release.partialPath(final))),
    `sh -c 'top=-; d="$2"; while [ ! -d "$d" ]; do top=$d; [ "$d" = "$1" ] && break; d=$(dirname -- "$d"); done; ` +
      `mkdir -p -- "$2" && rm -f -- "$4" && { if [ -f "$3" ]; then sha256sum -- "$3"; else echo -; fi; ` +
      `if command -v curl >/dev/null 2>&1; then echo curl; else echo no-curl; fi; echo "$top"; df -Pk -- "$2" || true; }' survey ` +
      "'/opt/my app/hello' '/opt/my app/hello/releases/0.2.0' '/opt/my app/hello/releases/0.2.0/hello.tar.gz' '/opt/my app/hello/releases/0.2.0/hello.tar.gz.partial'",
  );
});

test('release.verifyAndPlace checks the partial, then moves it over the final name', () => {
  const final = layout.tarball('0.2.0');
  assert.equal(
    and(...release.verifyAndPlace(release.partialPath(final), final, SHA)),
    `sh -c 'echo "$1  $2" | sha256sum -c --status' verify ${SHA} /opt/ferry/hello/releases/0.2.0/hello.tar.gz.partial` +
      ' && mv -f -- /opt/ferry/hello/releases/0.2.0/hello.tar.gz.partial /opt/ferry/hello/releases/0.2.0/hello.tar.gz',
  );
});

test('release.verifyAndPlace quotes a deploy root that has a space', () => {
  const final = spaced.tarball('0.2.0');
  assert.equal(
    and(...release.verifyAndPlace(release.partialPath(final), final, SHA)),
    `sh -c 'echo "$1  $2" | sha256sum -c --status' verify ${SHA} '/opt/my app/hello/releases/0.2.0/hello.tar.gz.partial'` +
      " && mv -f -- '/opt/my app/hello/releases/0.2.0/hello.tar.gz.partial' '/opt/my app/hello/releases/0.2.0/hello.tar.gz'",
  );
});

test('release.unpack checks the tarball again, then extracts it into the root', () => {
  assert.equal(
    and(...release.unpack(layout, version('0.2.0'), SHA)),
    `sh -c 'echo "$1  $2" | sha256sum -c --status' verify ${SHA} /opt/ferry/hello/releases/0.2.0/hello.tar.gz` +
      ' && tar -xzf /opt/ferry/hello/releases/0.2.0/hello.tar.gz -C /opt/ferry/hello',
  );
});

test('release.unpack quotes a deploy root that has a space', () => {
  assert.equal(
    and(...release.unpack(spaced, version('0.2.0'), SHA)),
    `sh -c 'echo "$1  $2" | sha256sum -c --status' verify ${SHA} '/opt/my app/hello/releases/0.2.0/hello.tar.gz'` +
      " && tar -xzf '/opt/my app/hello/releases/0.2.0/hello.tar.gz' -C '/opt/my app/hello'",
  );
});

test('release.listVersions lists the directories under releases/ with a constant script', () => {
  assert.equal(
    toShell(release.listVersions(layout)),
    `sh -c 'cd "$1" 2>/dev/null && for d in */; do [ -d "$d" ] && echo "\${d%/}"; done; true' versions /opt/ferry/hello/releases`,
  );
});

test('release.surveyUpload run by sh makes the directory, removes a partial file and reports what is there', () => {
  const root = path.join(tempDir(), 'hello');
  const dir = path.join(root, 'releases', '0.2.0');
  const final = path.join(dir, 'hello.tar.gz');
  const partial = release.partialPath(final);
  const first = sh(toShell(release.surveyUpload(root, dir, final, partial)));
  assert.equal(first.status, 0, first.stderr);
  assert.ok(existsSync(dir));
  const none = release.parseUploadSurvey(first.stdout);
  assert.equal(none.sha256, undefined);
  assert.equal(none.made, root, 'it made the app root and everything below it');
  assert.equal(none.curl, spawnSync('sh', ['-c', 'command -v curl']).status === 0);
  assert.ok(none.freeKiB! > 0, first.stdout);
  writeFileSync(final, 'release bytes');
  writeFileSync(partial, 'half a rel');
  const again = release.parseUploadSurvey(sh(toShell(release.surveyUpload(root, dir, final, partial))).stdout);
  assert.equal(again.sha256, sha256('release bytes'));
  assert.equal(again.made, undefined);
  assert.equal(existsSync(partial), false);
});

test('release.undoUpload run by sh removes the partial file and only the empty directories the survey made', () => {
  const root = path.join(tempDir(), 'hello');
  const survey = (v: string) => {
    const dir = path.join(root, 'releases', v);
    const final = path.join(dir, 'hello.tar.gz');
    return { dir, partial: release.partialPath(final), made: release.parseUploadSurvey(sh(toShell(release.surveyUpload(root, dir, final, release.partialPath(final)))).stdout).made };
  };
  const fresh = survey('0.1.0');
  writeFileSync(fresh.partial, 'corrupt bytes');
  assert.equal(sh(toShell(release.undoUpload(fresh.partial, fresh.dir, fresh.made))).status, 0);
  assert.equal(existsSync(root), false, 'a fresh host keeps nothing');

  mkdirSync(path.join(root, 'releases', '0.1.0'), { recursive: true });
  const next = survey('0.2.0');
  assert.equal(next.made, next.dir);
  assert.equal(sh(toShell(release.undoUpload(next.partial, next.dir, next.made))).status, 0);
  assert.deepEqual(readdirSync(path.join(root, 'releases')), ['0.1.0'], 'the other release stays');

  const kept = survey('0.1.0');
  assert.equal(kept.made, undefined);
  writeFileSync(path.join(kept.dir, 'start.boot'), 'x');
  assert.equal(sh(toShell(release.undoUpload(kept.partial, kept.dir, kept.made))).status, 0);
  assert.ok(existsSync(path.join(kept.dir, 'start.boot')), 'a directory the survey did not make is never removed');
});

test('release.parseUploadSurvey reads a hash, curl, the directory made and a full disk; anything else is unknown', () => {
  const df = 'Filesystem 1024-blocks Used Available Capacity Mounted on\ntmpfs 1024 1024 0 100% /opt/x\n';
  assert.deepEqual(release.parseUploadSurvey(`${SHA}  /opt/x/hello.tar.gz\ncurl\n-\n${df}`), { sha256: SHA, curl: true, freeKiB: 0 });
  assert.deepEqual(release.parseUploadSurvey(`-\nno-curl\n/opt/x\ndf: /opt/x: No such file or directory\n`), { curl: false, made: '/opt/x', freeKiB: undefined });
  assert.deepEqual(release.parseUploadSurvey(''), { curl: false, freeKiB: undefined });
});

test('release.verifyAndPlace run by sh moves a partial with the right checksum into place', () => {
  const dir = tempDir();
  const final = path.join(dir, 'hello.tar.gz');
  const partial = release.partialPath(final);
  writeFileSync(partial, 'release bytes');
  const r = sh(and(...release.verifyAndPlace(partial, final, sha256('release bytes'))));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(final, 'utf8'), 'release bytes');
  assert.equal(existsSync(partial), false);
});

test('release.verifyAndPlace run by sh fails on a wrong checksum and leaves the partial where it is', () => {
  const dir = tempDir();
  const final = path.join(dir, 'hello.tar.gz');
  const partial = release.partialPath(final);
  writeFileSync(partial, 'truncated');
  const r = sh(and(...release.verifyAndPlace(partial, final, sha256('release bytes'))));
  assert.notEqual(r.status, 0);
  assert.equal(existsSync(final), false);
  assert.equal(readFileSync(partial, 'utf8'), 'truncated');
});

test('release.verifyAndPlace run by sh fails when the partial is missing', () => {
  const final = path.join(tempDir(), 'hello.tar.gz');
  const r = sh(and(...release.verifyAndPlace(release.partialPath(final), final, SHA)));
  assert.notEqual(r.status, 0);
  assert.equal(existsSync(final), false);
});

test('release.unpack run by sh extracts a tarball whose checksum matches, and refuses one that does not', () => {
  const src = tempDir();
  mkdirSync(path.join(src, 'bin'));
  writeFileSync(path.join(src, 'bin', 'hello'), '#!/bin/sh\n');
  const l = releaseLayout(tempDir(), 'hello');
  mkdirSync(l.releaseDir('0.2.0'), { recursive: true });
  execFileSync('tar', ['-czf', l.tarball('0.2.0'), '-C', src, '.']);
  const good = sha256(readFileSync(l.tarball('0.2.0')));

  const refused = sh(and(...release.unpack(l, version('0.2.0'), SHA)));
  assert.notEqual(refused.status, 0);
  assert.equal(existsSync(l.bin), false);

  const r = sh(and(...release.unpack(l, version('0.2.0'), good)));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(l.bin, 'utf8'), '#!/bin/sh\n');
});

test('release.listVersions run by sh prints each release directory and ignores files', () => {
  const l = fakeRelease('0.1.0', undefined);
  mkdirSync(l.releaseDir('0.2.0'));
  writeFileSync(path.join(l.releasesDir, 'start_erl.data'), '14.2 0.2.0\n');
  const r = sh(toShell(release.listVersions(l)));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '0.1.0\n0.2.0\n');
});

test('release.listVersions run by sh prints nothing and succeeds when there is no releases directory', () => {
  const l = releaseLayout(tempDir(), 'hello');
  assert.deepEqual(sh(toShell(release.listVersions(l))), { status: 0, stdout: '', stderr: '' });
});

// --- build: the build host ---

test('build.prepareRepository makes BUILD_AT and a repository that accepts pushes to its branch', () => {
  assert.equal(
    and(...build.prepareRepository('/opt/build')),
    "mkdir -p /opt/build && flock /opt/build sh -c 'cd \"$1\" && { [ -d .git ] || git init -q; } && git config receive.denyCurrentBranch ignore' init /opt/build",
  );
});

test('build.prepareRepository quotes a BUILD_AT that has a space', () => {
  assert.equal(
    and(...build.prepareRepository('/opt/my build')),
    "mkdir -p '/opt/my build' && flock '/opt/my build' sh -c 'cd \"$1\" && { [ -d .git ] || git init -q; } && git config receive.denyCurrentBranch ignore' init '/opt/my build'",
  );
});

test('build.prepareRepository run twice by sh leaves one repository that accepts pushes', () => {
  const buildAt = path.join(tempDir(), 'my build');
  const command = and(...build.prepareRepository(buildAt));
  for (let i = 0; i < 2; i++) {
    const r = sh(command);
    assert.equal(r.status, 0, r.stderr);
  }
  assert.equal(execFileSync('git', ['config', 'receive.denyCurrentBranch'], { cwd: buildAt, encoding: 'utf8' }), 'ignore\n');
});

test('build.prepareRepository run by six shells at once makes one repository, and none of them fails', () => {
  // Two builds that share a BUILD_AT start together; `git init` alone is not safe to run twice at once.
  const buildAt = path.join(tempDir(), 'shared');
  const command = and(...build.prepareRepository(buildAt));
  const r = sh(`for i in 1 2 3 4 5 6; do (${command} || echo FAILED) & done; wait`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '', r.stderr);
  assert.equal(execFileSync('git', ['config', 'receive.denyCurrentBranch'], { cwd: buildAt, encoding: 'utf8' }), 'ignore\n');
});

test('build.checkout detaches at the revision and removes untracked files', () => {
  assert.equal(and(...build.checkout('0123456789abcdef0123456789abcdef01234567')), 'git checkout -q --force --detach 0123456789abcdef0123456789abcdef01234567 && git clean -fdq');
});

test('build.buildRelease with rebar3 makes a prod tarball', () => {
  assert.equal(and(...build.buildRelease('rebar3')), 'rebar3 as prod tar');
});

test('build.buildRelease with mix compiles, then releases with MIX_ENV=prod', () => {
  assert.equal(and(...build.buildRelease('mix')), 'env MIX_ENV=prod mix compile && env MIX_ENV=prod mix release --overwrite');
});

test('build.builtVersion reads start_erl.data of the release', () => {
  assert.equal(toShell(build.builtVersion('_build/prod/rel/hello')), 'cat _build/prod/rel/hello/releases/start_erl.data');
});

test('build.defaultReleaseDir is _build/prod/rel/<app>', () => {
  assert.equal(build.defaultReleaseDir('hello'), '_build/prod/rel/hello');
});

test('build.tarballPath is <app>-<version>.tar.gz inside the release directory', () => {
  assert.equal(build.tarballPath('_build/prod/rel/hello', 'hello', '0.1.0'), '_build/prod/rel/hello/hello-0.1.0.tar.gz');
});

test('build.tarMixRelease writes the tarball outside the directory it reads, then moves it in', () => {
  assert.equal(
    toShell(build.tarMixRelease('_build/prod/rel/hello', 'hello', '0.1.0')),
    `sh -c 'tmp=$(mktemp) && tar -czf "$tmp" --exclude "*.tar.gz" -C "$2" . && mv -f "$tmp" "$1"' tar _build/prod/rel/hello/hello-0.1.0.tar.gz _build/prod/rel/hello`,
  );
});

test('build.tarMixRelease quotes a RELEASE_DIR that has a space', () => {
  assert.equal(
    toShell(build.tarMixRelease('/opt/my build/rel/hello', 'hello', '0.1.0')),
    `sh -c 'tmp=$(mktemp) && tar -czf "$tmp" --exclude "*.tar.gz" -C "$2" . && mv -f "$tmp" "$1"' tar '/opt/my build/rel/hello/hello-0.1.0.tar.gz' '/opt/my build/rel/hello'`,
  );
});

test('build.tarMixRelease run by sh makes a tarball of the release without older tarballs in it', () => {
  const releaseDir = path.join(tempDir(), 'rel', 'hello');
  mkdirSync(path.join(releaseDir, 'bin'), { recursive: true });
  writeFileSync(path.join(releaseDir, 'bin', 'hello'), '#!/bin/sh\n');
  writeFileSync(path.join(releaseDir, 'hello-0.0.9.tar.gz'), 'old');
  const r = sh(toShell(build.tarMixRelease(releaseDir, 'hello', '0.1.0')));
  assert.equal(r.status, 0, r.stderr);
  const listing = execFileSync('tar', ['-tzf', build.tarballPath(releaseDir, 'hello', '0.1.0')], { encoding: 'utf8' });
  assert.deepEqual(listing.split('\n').filter(Boolean).sort(), ['./', './bin/', './bin/hello']);
});

// --- the layout the builders use ---

test('releaseLayout puts everything under <deployTo>/<app>', () => {
  const { releaseDir, tarball, ...paths } = layout;
  assert.deepEqual(paths, {
    root: '/opt/ferry/hello',
    bin: '/opt/ferry/hello/bin/hello',
    releasesDir: '/opt/ferry/hello/releases',
    vmArgs: '/opt/ferry/hello/ferry/vm.args',
    cookie: '/opt/ferry/hello/ferry/cookie',
    pipeDir: '/opt/ferry/hello/ferry/pipes/',
    logDir: '/opt/ferry/hello/log',
  });
  assert.equal(releaseDir('0.2.0'), '/opt/ferry/hello/releases/0.2.0');
  assert.equal(tarball('0.2.0'), '/opt/ferry/hello/releases/0.2.0/hello.tar.gz');
});

test('node.configure run by sh writes extra lines verbatim, backslashes and quotes included', () => {
  const l = fakeRelease('0.1.0', undefined);
  const extra = ['-env PATTERN a\\nb', `-kernel x "['a@h']"`];
  const r = sh(toShell(node.configure(l, '0.1.0', 'a@h', { extraArgs: extra })));
  assert.equal(r.status, 0, r.stderr);
  assertConfigured(l, `-name a@h\n${extra.join('\n')}\n`);
});

test('node.clusterArgs with distributed adds the kernel distributed list, the first node preferred, and erl reads it', () => {
  const args = node.clusterArgs({ ...cluster, distributed: { failoverMs: 5000 } }, 'n1@127.0.0.1', 'hello');
  assert.equal(args[2], `-kernel distributed "[{hello,5000,['n1@127.0.0.1',{'n2@127.0.0.1','n3@127.0.0.1'}]}]"`);
  const file = path.join(tempDir(), 'vm.args');
  writeFileSync(file, `${args.join('\n')}\n`);
  const out = execFileSync('erl', ['-noshell', '-args_file', file, '-eval', 'io:format("~p~n", [application:get_env(kernel, distributed)]), halt().'], {
    encoding: 'utf8',
  });
  assert.equal(out.trim(), "{ok,[{hello,5000,['n1@127.0.0.1',{'n2@127.0.0.1','n3@127.0.0.1'}]}]}");
  assert.equal(node.clusterArgs({ ...cluster, distributed: { failoverMs: 5000 } }, 'n1@127.0.0.1').length, 2, 'no app, no distributed line');
});

test('withBuildLock runs the command under flock on BUILD_AT/.git/ferry-build.lock; a second holder waits its turn', () => {
  const dir = tempDir();
  mkdirSync(path.join(dir, '.git'));
  assert.deepEqual(build.withBuildLock('/opt/b', 'true'), ['flock', '/opt/b/.git/ferry-build.lock', 'sh', '-c', 'true']);
  // Two locked commands started together: each appends start/end marks; the lock keeps their marks from interleaving.
  const log = path.join(dir, 'marks');
  const step = (n: string) => toShell(build.withBuildLock(dir, `echo start-${n} >> '${log}'; sleep 0.3; echo end-${n} >> '${log}'`));
  const r = sh(`${step('a')} & ${step('b')} & wait`);
  assert.equal(r.status, 0, r.stderr);
  const marks = readFileSync(log, 'utf8').trim().split('\n');
  assert.equal(marks.length, 4);
  assert.equal(marks[0]!.replace('start', 'end'), marks[1]);
  assert.equal(marks[2]!.replace('start', 'end'), marks[3]);
});

test('availableKiB reads the free KiB from real `df -Pk` output; undefined for anything else', () => {
  const dir = tempDir();
  const r = sh(toShell(release.diskFree(dir)));
  assert.equal(r.status, 0, r.stderr);
  const free = release.availableKiB(r.stdout);
  assert.ok(free !== undefined && Number.isInteger(free) && free >= 0, r.stdout);
  assert.equal(release.availableKiB('Filesystem 1024-blocks Used Available Capacity Mounted on\ntmpfs 1024 1024 0 100% /opt/x\n'), 0);
  assert.equal(release.availableKiB(''), undefined);
  assert.equal(release.availableKiB('df: /nope: No such file or directory\n'), undefined);
  assert.deepEqual(release.removePartial('/opt/ferry/hello/releases/0.1.0/hello.tar.gz.partial'), ['rm', '-f', '--', '/opt/ferry/hello/releases/0.1.0/hello.tar.gz.partial']);
});
