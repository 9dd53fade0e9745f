import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { RolloutPlan, RolloutProgress } from '../../core/domain/plan';
import type { NodeCommandResult } from '../../core/domain/requests';
import { ferry, productionOn010, root, spawnWorker, starts, stopWorker, temporal } from '../support/cli';
import { exampleProject, testConfig, testEnv } from '../support/env';

const env = testEnv();
const ID = 'ferry/hello/production';
const HOSTS = ['prod1', 'prod2', 'prod3'];
let project: string;
let gated: string;
let worker: ChildProcess;
const temporalCli = (...args: string[]) => temporal(env, ...args);
const startWorker = () => spawnWorker('warn');

const progress = (): RolloutProgress => {
  const q = temporalCli('workflow', 'query', '--workflow-id', ID, '--type', 'progress', '--output', 'json');
  assert.equal(q.code, 0, q.err);
  const parsed = JSON.parse(q.out) as { queryResult: RolloutProgress[] };
  return parsed.queryResult[0]!;
};

async function until(ok: (p: RolloutProgress) => boolean, what: string): Promise<RolloutProgress> {
  for (let i = 0; i < 300; i++) {
    const q = temporalCli('workflow', 'query', '--workflow-id', ID, '--type', 'progress', '--output', 'json');
    if (q.code === 0) {
      const p = (JSON.parse(q.out) as { queryResult: RolloutProgress[] }).queryResult[0]!;
      if (ok(p)) return p;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(progress())}`);
}

const versions = (cwd: string) => {
  const r = ferry(cwd, '--json', 'version', 'production');
  return (JSON.parse(r.out) as NodeCommandResult).hosts.map((h) => h.version);
};

before(() => {
  project = exampleProject(env, testConfig(env, 'APPROVERS="alice bob"\n'));
  gated = exampleProject(env, testConfig(env, 'PRODUCTION_REQUIRE_APPROVAL=true\nPRODUCTION_CANARY=1\nPRODUCTION_BATCH=2\nAPPROVERS="alice bob"\n'));
  worker = startWorker();
  productionOn010(project);
});

after(async () => {
  ferry(project, 'stop', 'production');
  await stopWorker(worker);
});

test('the stock temporal CLI starts a rollout from a plan file; the canary waits for approve; then every host runs 0.2.0', async (t) => {
  const plan = ferry(project, 'rollout', 'production', '--version=0.2.0', '--canary=1', '--batch=2', '--require-approval', '--print-plan');
  assert.equal(plan.code, 0, plan.err);
  const file = join(env.state, 'plan.json');
  writeFileSync(file, plan.out);
  const start = temporalCli('workflow', 'start', '--type', 'rollout', '--task-queue', 'ferry', '--workflow-id', ID, '--id-conflict-policy', 'Fail', '--input-file', file);
  assert.equal(start.code, 0, start.err);

  const waiting = await until((p) => p.waiting?.kind === 'approval', 'the approval after the canary');
  assert.equal(waiting.waiting?.kind === 'approval' && waiting.waiting.gate, 'production: after canary');
  assert.deepEqual(versions(project), ['0.2.0', '0.1.0', '0.1.0']);

  const refused = temporalCli('workflow', 'update', 'execute', '--workflow-id', ID, '--name', 'approve', '--input', '{"by":"mallory"}');
  assert.notEqual(refused.code, 0);
  assert.match(refused.out + refused.err, /mallory may not approve this rollout \(approvers: alice, bob\)/);
  const approved = temporalCli('workflow', 'update', 'execute', '--workflow-id', ID, '--name', 'approve', '--input', '{"by":"alice","comment":"ok"}');
  assert.equal(approved.code, 0, approved.err);

  const result = temporalCli('workflow', 'result', '--workflow-id', ID, '--output', 'json');
  assert.equal(result.code, 0, result.err);
  const done = (JSON.parse(result.out) as { result: RolloutProgress }).result;
  assert.equal(done.phase, 'done');
  assert.deepEqual(done.approvals.map((a) => [a.by, a.comment, a.decision]), [['alice', 'ok', 'approved']]);
  assert.deepEqual(done.stages[0]!.batches.map((b) => b.length), [1, 2]);
  assert.deepEqual(versions(project), ['0.2.0', '0.2.0', '0.2.0']);
  const status = ferry(project, '--json', 'status', 'production');
  assert.equal(status.code, 0, status.err);
  assert.equal((JSON.parse(status.out) as RolloutProgress).phase, 'done');
  // The history size the README states: events of this 3-host run (an approval gate and the canary included).
  const show = temporalCli('workflow', 'show', '--workflow-id', ID, '--output', 'json');
  assert.equal(show.code, 0, show.err);
  const events = (JSON.parse(show.out) as { events: unknown[] }).events.length;
  t.diagnostic(`rollout history: ${events} events for 3 hosts`);
  assert.ok(events / 3 < 60, `${events} events for 3 hosts`);
});

test('with PRODUCTION_REQUIRE_APPROVAL=true, ferry deploy goes through a rollout; ferry approve lets it finish', async () => {
  const deploy = ferry(gated, 'deploy', 'release', 'to', 'production', '--version=0.1.0', '--start-deploy');
  assert.equal(deploy.code, 0, deploy.out + deploy.err);
  assert.match(deploy.out, /waiting for approval \(production: after canary\) since .*`ferry approve production/);

  const busy = ferry(gated, 'deploy', 'release', 'to', 'production', '--version=0.2.0');
  assert.equal(busy.code, 2);
  assert.match(busy.err, /ferry\/hello\/production is busy: "rollout 0\.1\.0 to production .*" started by /);

  const mallory = ferry(gated, 'approve', 'production', '--by=mallory');
  assert.equal(mallory.code, 2);
  assert.match(mallory.err, /approve refused: mallory may not approve this rollout/);
  const status = ferry(gated, 'status', 'production');
  assert.match(status.out, /waiting-for-approval/);

  const bob = ferry(gated, 'approve', 'production', '--by=bob', '--comment=canary fine');
  assert.equal(bob.code, 0, bob.err);
  assert.match(bob.out, /approved \(production: after canary\) by bob/);
  const watch = ferry(gated, '--json', 'status', 'production', '--watch');
  assert.equal(watch.code, 0, watch.err);
  const last = JSON.parse(watch.out.trim().split('\n').pop()!) as RolloutProgress;
  assert.equal(last.phase, 'done');
  assert.deepEqual(last.refused, []);
  assert.deepEqual(versions(gated), ['0.1.0', '0.1.0', '0.1.0']);
});

test('a host that fails makes the rollout wait for an operator; ferry resume --rollback restores the previous version', async () => {
  // "other" presents its own key, but this known_hosts holds prod1's key under its name: it fails at once, every time.
  const knownHosts = join(env.state, 'known_hosts.rollback');
  const lines = readFileSync(env.knownHosts, 'utf8').trim().split('\n');
  const keyOf = (host: string) => lines.find((l) => l.startsWith(`[${env.addr(host)}]:${env.port(host)} `))!.split(' ').slice(1).join(' ');
  writeFileSync(knownHosts, `${lines.filter((l) => !l.startsWith(`[${env.addr('other')}]:${env.port('other')} `)).join('\n')}\n[${env.addr('other')}]:${env.port('other')} ${keyOf('prod1')}\n`);
  const failing = exampleProject(env, testConfig(env, `PRODUCTION_HOSTS="${env.host('prod1')} ${env.host('other')}"\nSSH_KNOWN_HOSTS="${knownHosts}"\n`));

  const r = ferry(failing, 'rollout', 'production', '--version=0.2.0', '--canary=1');
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, new RegExp(`waiting for an operator since .*: ${env.hostRe('other')} failed: .*host key does not match`));
  assert.equal(versions(project)[0], '0.2.0');

  const resume = ferry(failing, 'resume', 'production', '--rollback', '--by=ops');
  assert.equal(resume.code, 0, resume.err);
  const watch = ferry(failing, 'status', 'production', '--watch');
  assert.equal(watch.code, 1, watch.out);
  assert.match(watch.out, /rollout: rolled-back/);
  const done = progress();
  assert.equal(done.stages[0]!.hosts[`${env.host('prod1')}`]?.previousVersion, '0.1.0');
  assert.deepEqual(versions(project), ['0.1.0', '0.1.0', '0.1.0']);
});

test('a worker killed with SIGKILL between batches is replaced; the rollout finishes and starts each node exactly once', async () => {
  const before = HOSTS.map((h) => starts(env, h));
  const cli = spawn(join(root, 'bin', 'ferry'), ['rollout', 'production', '--version=0.2.0', '--batch=1', '--pause=3'], { cwd: project, stdio: 'ignore' });
  const cliDone = new Promise<number | null>((r) => cli.once('exit', r));
  // Batch 2 of 3 has finished and the rollout sleeps before batch 3: no activity is in flight, so nothing waits for a timeout.
  await until((p) => p.batch === 1 && p.stages[0]!.hosts[`${env.host('prod2')}`]?.outcome === 'ok', 'the end of batch 2');
  await stopWorker(worker, 'SIGKILL');
  worker = startWorker();
  assert.equal(await cliDone, 0);
  assert.deepEqual(versions(project), ['0.2.0', '0.2.0', '0.2.0']);
  assert.deepEqual(HOSTS.map((h, i) => starts(env, h) - before[i]!), [1, 1, 1]);
  const done = progress();
  assert.deepEqual(Object.values(done.stages[0]!.hosts).map((h) => h.attempts), [1, 1, 1]);
});

test('ferry rollback production returns the hosts of the last rollout to the version they ran before it', () => {
  const r = ferry(project, 'rollback', 'production');
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /started ferry\/hello\/production \(rollback from 0\.2\.0 to 0\.1\.0 to production/);
  assert.match(r.out, /rollout: done/);
  assert.deepEqual(versions(project), ['0.1.0', '0.1.0', '0.1.0']);
  const again = ferry(project, 'rollback', 'production');
  assert.equal(again.code, 0, again.out + again.err);
  assert.deepEqual(versions(project), ['0.2.0', '0.2.0', '0.2.0'], 'a rollback is itself a rollout, so it can be undone');
});

test('a worker killed with SIGKILL during an activity of batch 2 is replaced; the step is redone, the rollout completes, each node started once', async () => {
  const before = HOSTS.map((h) => starts(env, h));
  // The health command leaves a line in the host's own log each time it runs, then takes a few seconds: the kill lands in it.
  const log = (h: string) => join(env.hostRoot(h), 'ferry', 'hello', 'health.log');
  for (const h of HOSTS) rmSync(log(h), { force: true });
  const target = versions(project)[0] === '0.1.0' ? '0.2.0' : '0.1.0';
  const printed = ferry(project, 'rollout', 'production', `--version=${target}`, '--batch=1', '--print-plan');
  assert.equal(printed.code, 0, printed.err);
  const plan = JSON.parse(printed.out) as RolloutPlan;
  plan.stages[0]!.healthCommand = { command: ['sh', '-c', 'echo check >> health.log; sleep 4'], retries: 2, intervalSeconds: 1, timeoutSeconds: 30 };
  const file = join(env.state, 'plan-kill.json');
  writeFileSync(file, JSON.stringify(plan));
  const cli = spawn(join(root, 'bin', 'ferry'), ['rollout', 'production', `--plan-file=${file}`], { cwd: project, stdio: 'ignore' });
  const cliDone = new Promise<number | null>((r) => cli.once('exit', r));
  await until((p) => p.batch === 1 && p.stages[0]!.hosts[`${env.host('prod2')}`]?.step === 'health' && existsSync(log('prod2')), 'the health command of batch 2');
  await stopWorker(worker, 'SIGKILL');
  worker = startWorker();
  assert.equal(await cliDone, 0);
  assert.deepEqual(versions(project), [target, target, target]);
  assert.deepEqual(HOSTS.map((h, i) => starts(env, h) - before[i]!), [1, 1, 1], 'each node was deployed and started exactly once');
  const runs = (h: string) => readFileSync(log(h), 'utf8').trim().split('\n').length;
  assert.deepEqual(HOSTS.map(runs), [1, 2, 1], 'only the interrupted health command ran again');
  const done = progress();
  assert.equal(done.phase, 'done');
  assert.deepEqual(Object.values(done.stages[0]!.hosts).map((h) => [h.outcome, h.attempts]), [['ok', 1], ['ok', 1], ['ok', 1]]);
});

test('ferry freeze refuses new changes to production, naming who and why, until ferry unfreeze; nothing is touched meanwhile', () => {
  const was = versions(project);
  const frozen = ferry(project, 'freeze', 'production', '--reason=incident 42', '--by=ops');
  assert.equal(frozen.code, 0, frozen.out + frozen.err);
  assert.match(frozen.out, /^production frozen by ops: incident 42/);
  const again = ferry(project, 'freeze', 'production', '--reason=again');
  assert.equal(again.code, 2);
  assert.match(again.err, /production is already frozen by ops since .*: incident 42/);
  const refused = ferry(project, 'rollout', 'production', '--version=0.1.0');
  assert.equal(refused.code, 2, refused.out + refused.err);
  assert.match(refused.err, /production is frozen by ops since .*: incident 42; `ferry unfreeze` lifts it/);
  assert.equal(ferry(project, 'rollback', 'production').code, 2);
  assert.match(ferry(project, 'status', 'production').out, /^production is frozen by ops since .*: incident 42/);
  assert.deepEqual(versions(project), was);
  const lifted = ferry(project, 'unfreeze', 'production', '--by=ana');
  assert.equal(lifted.code, 0, lifted.out + lifted.err);
  assert.match(lifted.out, /^production unfrozen by ana \(frozen by ops since .*: incident 42\)/);
  assert.equal(ferry(project, 'unfreeze', 'production').code, 2, 'not frozen any more');
});
