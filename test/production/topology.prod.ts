import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import type { HistoryEntry } from '../../client/verbs/history';
import type { RolloutPlan, RolloutProgress } from '../../core/domain/plan';
import type { NodeCommandResult } from '../../core/domain/requests';
import { ferry, productionOn010, root, starts, temporal } from '../support/cli';
import { exampleProject, testConfig, testEnv } from '../support/env';

// The production topology (`make test-production`): scripts/production.sh runs the Temporal server built from
// go.temporal.io/server on PostgreSQL, with the schemas, namespace and search attributes docker-compose.yml sets up,
// and three `ferry worker` processes on the `ferry` task queue. Every run here goes through those three workers.

const env = testEnv();
const ID = 'ferry/hello/production';
const HOSTS = ['prod1', 'prod2', 'prod3'];
const since = new Date().toISOString();
let project: string;
const temporalCli = (...args: string[]) => temporal(env, ...args);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const workerPids = () =>
  [1, 2, 3].map((i) => Number(readFileSync(join(env.state, 'production', `worker-${i}.pid`), 'utf8').trim())).filter((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });

async function until<T>(get: () => T | undefined, what: string, tries = 300): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = get();
    if (v !== undefined) return v;
    await sleep(300);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const progress = (): RolloutProgress | undefined => {
  const q = temporalCli('workflow', 'query', '--workflow-id', ID, '--type', 'progress', '--output', 'json');
  return q.code === 0 ? (JSON.parse(q.out) as { queryResult: RolloutProgress[] }).queryResult[0] : undefined;
};
const versions = () => (JSON.parse(ferry(project, '--json', 'version', 'production').out) as NodeCommandResult).hosts.map((h) => h.version);
/** Workflow ids that PostgreSQL visibility returns for a query over Ferry's search attributes. */
const listed = (query: string): { workflowId: string; runId: string }[] => {
  const r = temporalCli('workflow', 'list', '--query', query, '--output', 'json');
  assert.equal(r.code, 0, r.err);
  return (JSON.parse(r.out || '[]') as { execution: { workflowId: string; runId: string } }[]).map((w) => w.execution);
};
const history = (...args: string[]): HistoryEntry[] =>
  (JSON.parse(ferry(project, 'history', ...args, '--json').out) as HistoryEntry[]).filter((e) => e.startTime >= since);

before(() => {
  assert.equal(workerPids().length, 3, 'scripts/production.sh started three workers');
  project = exampleProject(env, testConfig(env, 'APPROVERS="alice bob"\n'));
  productionOn010(project);
});

test('the namespace keeps closed workflows 30 days and has Ferry\'s search attributes', () => {
  const ns = temporalCli('operator', 'namespace', 'describe', '--namespace', 'default', '--output', 'json');
  assert.equal(ns.code, 0, ns.err);
  assert.match(ns.out, /"workflowExecutionRetentionTtl":\s*"2592000s"/);
  const sa = temporalCli('operator', 'search-attribute', 'list', '--namespace', 'default');
  for (const name of ['FerryApp', 'FerryEnvironment', 'FerryVersion', 'FerryPhase', 'FerryOutcome']) assert.match(sa.out, new RegExp(`${name}\\s+Keyword`));
});

test('a rollout waits for approval after the canary, is found by FerryPhase while it waits, and finishes once approved', async () => {
  const r = ferry(project, 'rollout', 'production', '--version=0.2.0', '--canary=1', '--batch=2', '--require-approval');
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /waiting for approval \(production: after canary\)/);
  const waiting = await until(() => {
    const l = listed("FerryApp='hello' AND FerryEnvironment='production' AND FerryPhase='waiting-for-approval'");
    return l.length === 1 ? l : undefined;
  }, 'the waiting rollout in visibility');
  assert.equal(waiting[0]!.workflowId, ID);
  assert.deepEqual(versions(), ['0.2.0', '0.1.0', '0.1.0']);
  const mallory = ferry(project, 'approve', 'production', '--by=mallory');
  assert.equal(mallory.code, 2);
  const alice = ferry(project, 'approve', 'production', '--by=alice');
  assert.equal(alice.code, 0, alice.err);
  const watch = ferry(project, 'status', 'production', '--watch');
  assert.equal(watch.code, 0, watch.out);
  assert.deepEqual(versions(), ['0.2.0', '0.2.0', '0.2.0']);
});

test('a worker killed with SIGKILL in the middle of batch 2: another worker redoes the step; nothing is done twice or lost', async () => {
  const before = HOSTS.map((h) => starts(env, h));
  const log = (h: string) => join(env.hostRoot(h), 'ferry', 'hello', 'health.log');
  for (const h of HOSTS) rmSync(log(h), { force: true });
  const printed = ferry(project, 'rollout', 'production', '--version=0.1.0', '--batch=1', '--print-plan');
  assert.equal(printed.code, 0, printed.err);
  const plan = JSON.parse(printed.out) as RolloutPlan;
  plan.stages[0]!.healthCommand = { command: ['sh', '-c', 'echo check >> health.log; sleep 4'], retries: 2, intervalSeconds: 1, timeoutSeconds: 30 };
  const file = join(env.state, 'plan-prod-kill.json');
  writeFileSync(file, JSON.stringify(plan));
  const cli = spawn(join(root, 'bin', 'ferry'), ['rollout', 'production', `--plan-file=${file}`], { cwd: project, stdio: 'ignore' });
  const cliDone = new Promise<number | null>((r) => cli.once('exit', r));
  await until(() => {
    const p = progress();
    return p?.batch === 1 && p.stages[0]!.hosts[`127.0.0.1:${env.port('prod2')}`]?.step === 'health' && existsSync(log('prod2')) ? p : undefined;
  }, 'the health command of batch 2');
  // The worker that runs the health check (its identity is pid@host) is the one killed.
  const d = JSON.parse(temporalCli('workflow', 'describe', '--workflow-id', ID, '--output', 'json').out) as { pendingActivities?: { lastWorkerIdentity?: string }[] };
  const pid = Number(d.pendingActivities?.[0]?.lastWorkerIdentity?.split('@')[0]);
  assert.ok(workerPids().includes(pid), `the health check runs on one of the three workers (${JSON.stringify(d.pendingActivities)})`);
  process.kill(pid, 'SIGKILL');
  assert.equal(await cliDone, 0);
  assert.equal(workerPids().length, 2);
  execFileSync(join(root, 'scripts', 'production.sh'), ['workers'], { stdio: 'inherit' });
  assert.equal(workerPids().length, 3);
  assert.deepEqual(versions(), ['0.1.0', '0.1.0', '0.1.0']);
  assert.deepEqual(HOSTS.map((h, i) => starts(env, h) - before[i]!), [1, 1, 1], 'each node was deployed and started exactly once');
  assert.deepEqual(HOSTS.map((h) => readFileSync(log(h), 'utf8').trim().split('\n').length), [1, 2, 1], 'only the interrupted health check ran again');
  const done = progress()!;
  assert.equal(done.phase, 'done');
  assert.deepEqual(Object.values(done.stages[0]!.hosts).map((h) => [h.outcome, h.attempts]), [['ok', 1], ['ok', 1], ['ok', 1]]);
});

test('ferry rollback returns the hosts of the last rollout to the version they ran before it', () => {
  const back = ferry(project, 'rollback', 'production');
  assert.equal(back.code, 0, back.out + back.err);
  assert.match(back.out, /rollback from 0\.1\.0 to 0\.2\.0/);
  assert.deepEqual(versions(), ['0.2.0', '0.2.0', '0.2.0']);
});

test('a host that fails makes the rollout wait for an operator, found by FerryPhase; resume --rollback ends it rolled back', async () => {
  const knownHosts = join(env.state, 'known_hosts.prod-rollback');
  const lines = readFileSync(env.knownHosts, 'utf8').trim().split('\n');
  const keyOf = (port: number) => lines.find((l) => l.startsWith(`[127.0.0.1]:${port} `))!.split(' ').slice(1).join(' ');
  writeFileSync(knownHosts, `${lines.filter((l) => !l.startsWith(`[127.0.0.1]:${env.port('other')} `)).join('\n')}\n[127.0.0.1]:${env.port('other')} ${keyOf(env.port('prod1'))}\n`);
  const failing = exampleProject(env, testConfig(env, `PRODUCTION_HOSTS="127.0.0.1:${env.port('prod1')} 127.0.0.1:${env.port('other')}"\nSSH_KNOWN_HOSTS="${knownHosts}"\n`));
  const r = ferry(failing, 'rollout', 'production', '--version=0.1.0', '--canary=1');
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /waiting for an operator/);
  assert.equal(versions()[0], '0.1.0');
  await until(() => (listed("FerryEnvironment='production' AND FerryPhase='waiting-for-operator'").length === 1 ? true : undefined), 'waiting-for-operator in visibility');
  assert.equal(ferry(failing, 'resume', 'production', '--rollback', '--by=ops').code, 0);
  const watch = ferry(failing, 'status', 'production', '--watch');
  assert.equal(watch.code, 1, watch.out);
  assert.match(watch.out, /rollout: rolled-back/);
  assert.deepEqual(versions(), ['0.2.0', '0.2.0', '0.2.0']);
});

test('search by attributes on PostgreSQL visibility, and ferry history, list the five runs of this file with their outcomes', async () => {
  const runs = await until(() => {
    const h = history('production');
    return h.length === 5 && h.every((e) => e.status !== 'RUNNING') ? h : undefined;
  }, 'five closed runs in ferry history');
  assert.deepEqual(
    runs.map((e) => [e.type, e.version, e.phase, e.outcome]),
    [
      ['rollout', '0.1.0', 'done', 'rolled-back'],
      ['rollout', '0.2.0', 'done', 'succeeded'],
      ['rollout', '0.1.0', 'done', 'succeeded'],
      ['rollout', '0.2.0', 'done', 'succeeded'],
      ['deployRelease', '0.1.0', 'done', 'succeeded'],
    ],
  );
  const succeeded = listed("FerryEnvironment='production' AND FerryOutcome='succeeded'").map((w) => w.runId);
  for (const e of runs.filter((x) => x.outcome === 'succeeded')) assert.ok(succeeded.includes(e.runId), `${e.type} ${e.version} is found by FerryOutcome`);
  assert.deepEqual(history('production', '--version=0.1.0').map((e) => [e.type, e.outcome]), [['rollout', 'rolled-back'], ['rollout', 'succeeded'], ['deployRelease', 'succeeded']]);
  const text = ferry(project, 'history', 'production', '--limit=2');
  assert.equal(text.code, 0, text.err);
  assert.equal(text.out.trim().split('\n').length, 2);
});
