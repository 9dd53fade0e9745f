import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { HistoryEntry } from '../../client/verbs/history';
import { ferry, productionOn010, root, spawnWorker, stopWorker, temporal } from '../support/cli';
import { exampleProject, testConfig, testEnv } from '../support/env';

// Search attributes on the dev server (scripts/dev-server.sh registers them): what `ferry` starts carries FerryApp,
// FerryEnvironment and FerryVersion, the workflows keep FerryPhase and FerryOutcome current, and `ferry history` and
// `temporal workflow list --query` find the runs. test/production/topology.prod.ts does the same on PostgreSQL.

const env = testEnv();
let project: string;
let worker: ChildProcess;
const since = new Date().toISOString();

/** `ferry history ...args --json`, the runs of this file only; polled until `ok` (visibility is eventually consistent). */
async function history(ok: (h: HistoryEntry[]) => boolean, ...args: string[]): Promise<HistoryEntry[]> {
  let last: HistoryEntry[] = [];
  for (let i = 0; i < 100; i++) {
    const r = ferry(project, 'history', ...args, '--json');
    assert.equal(r.code, 0, r.out + r.err);
    last = (JSON.parse(r.out) as HistoryEntry[]).filter((e) => e.startTime >= since);
    if (ok(last)) return last;
    await new Promise((res) => setTimeout(res, 300));
  }
  assert.fail(`ferry history ${args.join(' ')}: ${JSON.stringify(last)}`);
}

before(() => {
  project = exampleProject(env, testConfig(env, 'APPROVERS="alice bob"\n'));
  worker = spawnWorker('warn');
  productionOn010(project);
});

after(async () => {
  ferry(project, 'stop', 'production');
  await stopWorker(worker);
});

test('a deploy, a failed deploy and a rejected rollout carry their search attributes; ferry history lists them', async () => {
  const missing = ferry(project, 'deploy', 'release', 'to', 'production', '--version=9.9.9');
  assert.equal(missing.code, 1, missing.out + missing.err);
  const waiting = ferry(project, 'rollout', 'production', '--version=0.2.0', '--approve-before');
  assert.equal(waiting.code, 0, waiting.out + waiting.err);
  const running = await history((h) => h.some((e) => e.phase === 'waiting-for-approval'), 'production');
  assert.deepEqual(
    running.filter((e) => e.status === 'RUNNING').map((e) => [e.type, e.version, e.phase, e.outcome]),
    [['rollout', '0.2.0', 'waiting-for-approval', undefined]],
  );
  assert.equal(ferry(project, 'reject', 'production', '--by=alice', '--comment=not today').code, 0);

  const runs = await history((h) => h.length === 3 && h.every((e) => e.status !== 'RUNNING'), 'production');
  assert.deepEqual(
    runs.map((e) => [e.workflowId, e.type, e.environment, e.version, e.phase, e.outcome]),
    [
      ['ferry/hello/production', 'rollout', 'production', '0.2.0', 'done', 'rejected'],
      ['ferry/hello/production', 'deployRelease', 'production', '9.9.9', 'done', 'failed'],
      ['ferry/hello/production', 'deployRelease', 'production', '0.1.0', 'done', 'succeeded'],
    ],
  );
  assert.ok(runs.every((e) => e.startedBy && e.closeTime));
  assert.deepEqual((await history((h) => h.length === 1, '--version=0.1.0')).map((e) => e.outcome), ['succeeded']);

  const text = ferry(project, 'history', 'production', '--limit=1');
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /^\d{4}-\d\d-\d\d \d\d:\d\d {2}production {3}0\.2\.0 {6}rollout {12}rejected /);

  // The stock CLI finds the same runs: the query the README gives.
  const listed = temporal(env, 'workflow', 'list', '--query', "FerryEnvironment='production' AND FerryOutcome='succeeded' AND FerryVersion='0.1.0'", '--output', 'json');
  assert.equal(listed.code, 0, listed.err);
  assert.ok((JSON.parse(listed.out) as { execution: { workflowId: string } }[]).some((w) => w.execution.workflowId === 'ferry/hello/production'));
  const described = temporal(env, 'workflow', 'describe', '--workflow-id', 'ferry/hello/production', '--output', 'json');
  assert.match(described.out, /rollout hello 0\.2\.0 to production/, 'the summary the Temporal UI shows');
});

test('ferry history refuses an unknown environment and a bad version, and says when there is nothing', () => {
  const unknown = ferry(project, 'history', 'nowhere');
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /nowhere/);
  const bad = ferry(project, 'history', "--version=1'x");
  assert.equal(bad.code, 2);
  assert.match(bad.err, /invalid version "1'x"/);
  const none = ferry(project, 'history', 'production', '--version=7.7.7');
  assert.equal(none.code, 0, none.err);
  assert.equal(none.out, "no deploys of hello to production at 7.7.7 in Temporal's history\n");
});

test('on a namespace without the search attributes, ferry deploy and ferry history say how to register them', async () => {
  const port = await new Promise<number>((res) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => res(p));
    });
  });
  const temporalBin = join(root, '.venv', 'bin', 'temporal');
  const bare = spawn(temporalBin, ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless', '--log-level', 'error'], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 120 && spawnSync(temporalBin, ['operator', 'cluster', 'health', '--address', `127.0.0.1:${port}`]).status !== 0; i++) {
      await new Promise((r) => setTimeout(r, 500));
    }
    const run = (...args: string[]) =>
      spawnSync(join(root, 'bin', 'ferry'), args, { cwd: project, encoding: 'utf8', env: { ...process.env, TEMPORAL_ADDRESS: `127.0.0.1:${port}` } });
    for (const r of [run('deploy', 'release', 'to', 'production', '--version=0.1.0'), run('history')]) {
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /search attribute.*temporal operator search-attribute create --name FerryApp --type Keyword/);
    }
  } finally {
    bare.kill('SIGTERM');
    await new Promise((r) => bare.once('exit', r));
  }
});
