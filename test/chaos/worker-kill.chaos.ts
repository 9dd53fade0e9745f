import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import type { RolloutProgress } from '../../core/domain/plan';
import type { NodeCommandResult } from '../../core/domain/requests';
import { exampleProject, testConfig, testEnv } from '../support/env';
import { productionOn010 } from '../support/cli';
import { ferry, halfExtracted, prng, sleep, spawnWorker, starts, stopWorker, summary, temporal } from './support';

/**
 * kill -9 of the worker at random points of a rollout, CHAOS_KILLS times in a row (default 20), seeded by CHAOS_SEED
 * (default 7): every rollout completes, every host ends on the target version, no node is started twice (run_erl's
 * own log on the host counts the starts), and no release directory is half extracted.
 */
const env = testEnv();
const KILLS = Number(process.env.CHAOS_KILLS ?? 20);
const SEED = Number(process.env.CHAOS_SEED ?? 7);
const HOSTS = ['prod1', 'prod2', 'prod3'];
const ID = 'ferry/hello/production';
let project: string;
let worker: ChildProcess;

before(() => {
  project = exampleProject(env, testConfig(env));
  worker = spawnWorker();
  productionOn010(project);
});

after(async () => {
  ferry(project, 'stop', 'production');
  await stopWorker(worker);
});

const versions = () => (JSON.parse(ferry(project, '--json', 'version', 'production').out) as NodeCommandResult).hosts.map((h) => h.version);

test(`kill -9 of the worker at ${KILLS} seeded random points of rollouts: nothing lost, nothing done twice`, async () => {
  const random = prng(SEED);
  let passed = 0;
  let lost = 0;
  const problems: string[] = [];
  for (let k = 0; k < KILLS; k++) {
    const target = k % 2 === 0 ? '0.2.0' : '0.1.0';
    const before = HOSTS.map((h) => starts(env, h));
    // The plan the CLI would start, started through the stock temporal CLI, which returns at once.
    const plan = ferry(project, 'rollout', 'production', `--version=${target}`, '--batch=1', '--print-plan');
    assert.equal(plan.code, 0, plan.err);
    const r = temporal(env, 'workflow', 'start', '--type', 'rollout', '--task-queue', 'ferry', '--workflow-id', ID, '--id-conflict-policy', 'Fail', '--input', plan.out.trim());
    assert.equal(r.code, 0, r.err);
    const delay = Math.floor(random() * 12_000);
    await sleep(delay);
    await stopWorker(worker, 'SIGKILL');
    worker = spawnWorker();
    const result = temporal(env, 'workflow', 'result', '--workflow-id', ID, '--output', 'json');
    const done = result.code === 0 ? (JSON.parse(result.out) as { result?: RolloutProgress }).result : undefined;
    const now = versions();
    const started = HOSTS.map((h, i) => starts(env, h) - before[i]!);
    const broken = HOSTS.flatMap((h) => halfExtracted(env, h));
    const ok = done?.phase === 'done' && now.every((v) => v === target) && started.every((n) => n === 1) && broken.length === 0;
    if (ok) passed++;
    if (done?.phase !== 'done' || now.some((v) => v !== target) || started.some((n) => n > 1)) lost++;
    if (!ok) problems.push(`kill ${k + 1} after ${delay} ms: phase ${done?.phase ?? result.err.trim()}, versions ${now.join(',')}, starts ${started.join(',')}, ${broken.join('; ')}`);
  }
  summary(`worker kill -9 (seed ${SEED})`, KILLS, passed, lost);
  assert.deepEqual(problems, []);
});
