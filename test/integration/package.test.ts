import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

/**
 * The package `npm pack` makes: compiled JavaScript, the workflow bundle, `bin/ferry`, no source tree. `npm install
 * <tarball>` needs the registry for the dependencies (the local npm cache holds no package metadata), so the test
 * unpacks the tarball and gives it this checkout's node_modules without tsx: nothing may compile TypeScript.
 */
const root = join(__dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'ferry-pack-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('npm pack gives compiled JavaScript and a workflow bundle; ferry --version, --help and worker run from it without tsx', () => {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [packed] = JSON.parse(out) as Array<{ filename: string; name: string; version: string; files: Array<{ path: string }> }>;
  const files = packed!.files.map((f) => f.path);
  assert.equal(packed!.name, 'ferry-deploy');
  for (const f of ['bin/ferry', 'package.json', 'dist/client/main.js', 'dist/worker/main.js', 'dist/workflow-bundle.js', 'dist/activities/erlang/upgrade.escript']) {
    assert.ok(files.includes(f), `${f} is in the package`);
  }
  assert.deepEqual(files.filter((f) => f.endsWith('.ts') || /^(test|bench|scripts|examples|workflows|client|core)\//.test(f)), []);

  execFileSync('tar', ['xzf', join(work, packed!.filename), '-C', work]);
  const pkg = join(work, 'package');
  // Every dependency of this checkout but tsx: the package must not need it at run time.
  mkdirSync(join(pkg, 'node_modules'));
  for (const dep of readdirSync(join(root, 'node_modules'))) {
    if (dep !== 'tsx' && dep !== '.bin') symlinkSync(join(root, 'node_modules', dep), join(pkg, 'node_modules', dep));
  }
  const ferry = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [join(pkg, 'bin', 'ferry'), ...args], { cwd: work, encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH, HOME: work, ...env } });

  const version = ferry(['--version']);
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout.trim(), JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  const help = ferry(['--help']);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^Usage: ferry /m);
  // The worker loads its compiled code and shipped bundle, then fails on the Temporal server it cannot reach.
  const worker = ferry(['worker'], { TEMPORAL_ADDRESS: '127.0.0.1:9', FERRY_LOG_LEVEL: 'error' });
  assert.notEqual(worker.status, 0);
  assert.doesNotMatch(`${worker.stdout}${worker.stderr}`, /Cannot find module|tsx|\.ts\b/);
  assert.match(`${worker.stdout}${worker.stderr}`, /connect|Connection refused|transport/i);
});
