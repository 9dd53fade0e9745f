import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { StoredRelease } from '../../core/domain/release';
import { exampleProject, testConfig, testEnv } from '../support/env';

/**
 * The ferry CLI and a `ferry worker` process with RELEASE_STORE in edeliver's s3://KEY@SECRET:bucket/prefix form, against
 * the SeaweedFS test server: the release goes through S3, the hosts fetch it themselves, and neither the config's secret
 * nor the worker's real one shows up in history, memos, CLI output or logs.
 */
const env = testEnv();
const root = join(__dirname, '..', '..');
const run = Date.now().toString(36);
const configSecret = `edeliverStyleSecret${run}/Abc+def`;
const envSecret = process.env.AWS_SECRET_ACCESS_KEY!;
const workerLog = join(env.state, `e2e-s3-worker-${run}.log`);
const cliLog = join(env.state, `e2e-s3-cli-${run}.log`);
const seen: string[] = [];
let project: string;
let worker: ChildProcess;

function ferry(...args: string[]) {
  const r = spawnSync(join(root, 'bin', 'ferry'), args, {
    cwd: project,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, FERRY_LOG_FILE: cliLog, FERRY_LOG_LEVEL: 'debug' },
  });
  seen.push(r.stdout, r.stderr);
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function temporalCli(...args: string[]) {
  const r = spawnSync(join(root, '.venv', 'bin', 'temporal'), [...args, '--address', env.temporalAddress], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

before(() => {
  project = exampleProject(
    env,
    testConfig(env, `RELEASE_STORE="s3://AKIAEDELIVERSTYLE@${configSecret}:${process.env.FERRY_S3_BUCKET ?? 'ferry-test'}/e2e/${run}"\nDELIVER_TO="/opt/ferry-e2e-s3"\n`),
  );
  worker = spawn(join(root, 'bin', 'ferry'), ['worker'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, FERRY_LOG_LEVEL: 'debug', FERRY_LOG_FILE: workerLog },
  });
  worker.stderr?.on('data', (d: Buffer) => seen.push(d.toString()));
});

after(async () => {
  worker.kill('SIGTERM');
  await new Promise((r) => worker.once('exit', r));
});

test('ferry build release stores in S3 and warns on stderr to move the keys out of RELEASE_STORE', () => {
  const r = ferry('build', 'release', '--tag=0.1.0');
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.err, /ferry: warning: \.deliver\/config: RELEASE_STORE holds AWS keys .* set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the worker's environment/);
  assert.match(r.out, new RegExp(`built hello 0\\.1\\.0 from [0-9a-f]{10}: s3://ferry-test/e2e/${run}/hello_0\\.1\\.0\\.release\\.tar\\.gz`));
});

test('ferry deploy release shows that each host fetched the release from a presigned URL', () => {
  const r = ferry('deploy', 'release', 'to', 'production', '--version=0.1.0');
  assert.equal(r.code, 0, r.out + r.err);
  assert.equal((r.out.match(/✓ 127\.0\.0\.\d+:\d+\s+done\s+\(via presigned URL, fetched by the host\)/g) ?? []).length, 3, r.out);
});

test('ferry download, upload, show releases and prune --keep work on the S3 store', () => {
  const file = join(project, 'copy.tar.gz');
  const down = ferry('download', 'release', '0.1.0', file);
  assert.equal(down.code, 0, down.err);
  assert.equal(existsSync(`${file}.partial`), false);
  const shown = JSON.parse(ferry('show', 'releases', '--json').out) as StoredRelease[];
  assert.equal(createHash('sha256').update(readFileSync(file)).digest('hex'), shown[0]!.sha256);

  copyFileSync(file, join(project, 'hello_0.10.0.release.tar.gz'));
  assert.equal(ferry('upload', 'release', '0.10.0').code, 0);
  assert.equal(ferry('upload', 'release', '0.9.0', file).code, 0);
  const again = ferry('upload', 'release', '0.9.0', file);
  assert.match(again.out, /hello 0\.9\.0 is already in s3:\/\/ferry-test\/e2e\/\S+ with the same sha256; nothing sent/);
  assert.deepEqual((JSON.parse(ferry('show', 'releases', '--json').out) as StoredRelease[]).map((x) => x.version), ['0.1.0', '0.9.0', '0.10.0']);
  assert.match(ferry('show', 'releases').out, /^VERSION\s+TYPE\s+REVISION\s+SIZE\s+BUILT \(UTC\)\n0\.1\.0\s+release\s+[0-9a-f]{10}/);

  const pruned = ferry('--json', 'prune', '--keep=2');
  assert.equal(pruned.code, 0, pruned.err);
  assert.deepEqual(JSON.parse(pruned.out), { removed: ['0.1.0'], kept: ['0.9.0', '0.10.0'] });
  assert.deepEqual((JSON.parse(ferry('show', 'releases', '--json').out) as StoredRelease[]).map((x) => x.version), ['0.9.0', '0.10.0']);
  const missing = ferry('download', 'release', '0.1.0', file);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /hello 0\.1\.0 is not in the release store s3:\/\/ferry-test\/e2e\/\S+ \(it has 0\.9\.0, 0\.10\.0\)/);
});

test('neither secret key appears in the workflow histories, memos, CLI output or the logs', () => {
  const texts = [...seen];
  for (const id of ['ferry/hello/build/0.1.0', 'ferry/hello/production', `ferry/hello/production/${env.host('prod1')}`]) {
    const show = temporalCli('workflow', 'show', '-w', id, '--output', 'json');
    assert.equal(show.code, 0, `${id}: ${show.err}`);
    assert.ok(show.out.includes('"kind"') || show.out.includes('s3'), `${id} carries the store descriptor`);
    const describe = temporalCli('workflow', 'describe', '-w', id, '--output', 'json');
    assert.equal(describe.code, 0, describe.err);
    texts.push(show.out, describe.out);
  }
  texts.push(readFileSync(workerLog, 'utf8'));
  if (existsSync(cliLog)) texts.push(readFileSync(cliLog, 'utf8'));
  assert.ok(texts.join('').includes(`e2e/${run}`), 'the texts searched are about this run');
  for (const secret of [configSecret, envSecret, 'AKIAEDELIVERSTYLE']) {
    const hits = texts.filter((t) => t.includes(secret)).length;
    assert.equal(hits, 0, `a secret (${secret.slice(0, 4)}…) appears in ${hits} of the texts`);
  }
});
