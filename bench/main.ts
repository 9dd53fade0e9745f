/**
 * `npm run bench`: Ferry against the raw baseline on the same local hosts, in one run. See README "Benchmarks".
 *
 * Env: BENCH_HOSTS (host counts, default 1,3,10,25), BENCH_RUNS (repetitions, default 5), BENCH_ROLLOUT_HOSTS (P2,
 * default 50), BENCH_BATCH (P2 batch size, default 10), BENCH_P3_HOSTS (10), BENCH_P6_HOSTS (100), BENCH_P6_BATCH
 * (25), BENCH_ONLY (figures to run, default p1,p2,p3,p5,p6), BENCH_TEMPORAL_PORT (7253), BENCH_PORT_BASE (3000: the
 * build host; host i on BASE+i), BENCH_STATE (.ferry/bench), BENCH_OUT (bench/results), BENCH_CLI_HOSTS (PC, 3,10).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { buildRequest, deployRequest, rolloutPlan } from '../client/requests';
import type { DeliveryConfig } from '../core/config/schema';
import type { RolloutProgress } from '../core/domain/plan';
import { measureAvailability } from './availability';
import { ROOT, benchEnv, clearHosts, median, memoryOf, run, sleep, type BenchEnv } from './env';
import { count, familyHistory, typeOf } from './history';
import { writeResults, type Results } from './report';

const list = (s: string | undefined, dflt: number[]) => (s ? s.split(',').map((x) => Number(x.trim())).filter((n) => n > 0) : dflt);
const HOSTS = list(process.env.BENCH_HOSTS, [1, 3, 10, 25]);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ROLLOUT_HOSTS = Number(process.env.BENCH_ROLLOUT_HOSTS ?? 50);
const BATCH = Number(process.env.BENCH_BATCH ?? 10);
const P3_HOSTS = Number(process.env.BENCH_P3_HOSTS ?? 10);
const P6_HOSTS = Number(process.env.BENCH_P6_HOSTS ?? 100);
const P6_BATCH = Number(process.env.BENCH_P6_BATCH ?? 25);
const FIGURES = ['p1', 'pc', 'p2', 'p3', 'p5', 'p6'] as const;
/** PC: host counts of the CLI-level figure (BENCH_CLI_HOSTS, default 3,10). */
const CLI_HOSTS = list(process.env.BENCH_CLI_HOSTS, [3, 10]);
type Figure = (typeof FIGURES)[number];
/** BENCH_ONLY: the figures to run (P4 and P6 per host count come with P1; p6 is P6 at scale). */
const ONLY: Figure[] = (() => {
  const given = process.env.BENCH_ONLY?.split(',').map((x) => x.trim().toLowerCase()).filter((x) => x !== '');
  if (!given?.length) return [...FIGURES];
  const unknown = given.filter((g) => !(FIGURES as readonly string[]).includes(g));
  if (unknown.length) throw new Error(`BENCH_ONLY: unknown figure(s) ${unknown.join(', ')}; use a comma list of ${FIGURES.join(', ')}`);
  return FIGURES.filter((f) => given.includes(f));
})();
const runs = (f: Figure) => ONLY.includes(f);
const VERSION = '0.1.0';
const log = (l: string) => process.stderr.write(`${l}\n`);
const seconds = (ms: number) => Math.round(ms) / 1000;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** The raw baseline: `scp` of the tarball, then `ssh host 'tar xzf ...'`, on every host in parallel. */
async function rawDeploy(env: BenchEnv, hosts: string[], tarball: string) {
  await Promise.all(
    hosts.map(async (h) => {
      await run('scp', [...env.sshArgs(h, true), '-q', tarball, 'root@127.0.0.1:/opt/raw.tar.gz']);
      await run('ssh', [...env.sshArgs(h), 'root@127.0.0.1', 'mkdir -p /opt/raw && tar xzf /opt/raw.tar.gz -C /opt/raw']);
    }),
  );
}

/**
 * What a user pays: `ferry deploy release to production --version=V --host ...` as a process (the installed package's
 * compiled JavaScript, FERRY_COMPILED=1), from its start to its exit: the CLI's start, its connection, the workflow
 * and the wait for its result.
 */
function cliDeploy(env: BenchEnv, project: string, hosts: string[]): Promise<void> {
  const args = [join(ROOT, 'bin', 'ferry'), 'deploy', 'release', 'to', 'production', `--version=${VERSION}`, ...hosts.map((h) => `--host=${env.hostName(h)}`)];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { cwd: project, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TEMPORAL_ADDRESS: env.address, FERRY_COMPILED: '1' } });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ferry deploy exited with ${code}: ${err.trim()}`))));
  });
}

let ids = 0;
const nextId = (what: string) => `bench/${what}/${process.pid}-${++ids}`;

async function ferryDeploy(env: BenchEnv, config: DeliveryConfig, hosts: string[], workflowId = nextId('deploy')) {
  const req = deployRequest(config, 'production', { version: VERSION, host: hosts.map(env.hostName), maxParallel: 500 });
  await env.client.workflow.execute('deployRelease', { taskQueue: 'ferry', workflowId, args: [req] });
  return workflowId;
}

async function ferryRollout(env: BenchEnv, config: DeliveryConfig, hosts: string[], batch: number, workflowId = nextId('rollout')) {
  const plan = rolloutPlan(config, ['production'], { version: VERSION, host: hosts.map(env.hostName), batch: String(batch), startDeploy: false }, 'bench');
  const handle = await env.client.workflow.start('rollout', { taskQueue: 'ferry', workflowId, args: [plan] });
  return { workflowId, done: handle.result() as Promise<RolloutProgress> };
}

async function main() {
  // as many hosts as the largest figure that runs needs (P5 uses up to 5)
  const counts = { p1: HOSTS, pc: CLI_HOSTS, p2: [ROLLOUT_HOSTS], p3: [P3_HOSTS], p5: [5], p6: [P6_HOSTS] };
  const maxHosts = Math.max(...ONLY.flatMap((f) => counts[f]));
  const env = await benchEnv({
    state: process.env.BENCH_STATE ?? join(ROOT, '.ferry', 'bench'),
    temporalPort: Number(process.env.BENCH_TEMPORAL_PORT ?? 7253),
    portBase: Number(process.env.BENCH_PORT_BASE ?? 3000),
    hosts: maxHosts,
    log,
  });
  const stop = () => void env.down().finally(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const results = await measure(env);
    writeResults(process.env.BENCH_OUT ?? join(ROOT, 'bench', 'results'), results);
  } finally {
    await env.down();
  }
}

async function measure(env: BenchEnv): Promise<Results> {
  const project = env.project();
  const config = await env.config(project);
  await env.startWorker();
  log(`building ${VERSION} on the build host`);
  await env.client.workflow.execute('buildRelease', { taskQueue: 'ferry', workflowId: nextId('build'), args: [buildRequest(config, { tag: VERSION })] });
  const tarball = join(env.state, 'store', `hello_${VERSION}.release.tar.gz`);
  const results: Results = {
    machine: { cores: (await import('node:os')).availableParallelism(), note: process.env.BENCH_MACHINE ?? '' },
    parameters: { only: ONLY, hosts: HOSTS, runs: RUNS, rolloutHosts: ROLLOUT_HOSTS, batch: BATCH, p3Hosts: P3_HOSTS, p6Hosts: P6_HOSTS, p6Batch: P6_BATCH },
    fanOut: [],
    startedAt: new Date().toISOString(),
  };

  // P1 fan-out, P4 handshakes, P6 peak RSS: per host count, a fresh worker, runs alternating ferry and raw.
  for (const n of runs('p1') ? HOSTS : []) {
    const hosts = env.names.slice(0, n);
    await env.killWorker();
    await env.startWorker();
    const ferry: number[] = [];
    const raw: number[] = [];
    let logins = 0;
    let steps = 0;
    for (let r = 0; r < RUNS; r++) {
      clearHosts(env, hosts);
      const before = hosts.map(env.logins);
      let id = '';
      ferry.push(await timed(async () => (id = await ferryDeploy(env, config, hosts))));
      if (r === 0) {
        logins = hosts.reduce((s, h, i) => s + env.logins(h) - before[i]!, 0) / n;
        const { children } = familyHistory(env, id);
        steps = [...children.values()].reduce((s, ev) => s + count(ev, 'ActivityTaskScheduled'), 0) / n;
      }
      clearHosts(env, hosts);
      raw.push(await timed(() => rawDeploy(env, hosts, tarball)));
    }
    const mem = memoryOf(env.worker!.pid!);
    const row = { hosts: n, ferryMs: median(ferry), rawMs: median(raw), ratio: median(ferry) / median(raw), ferryRunsMs: ferry, rawRunsMs: raw, handshakesPerHost: logins, stepsPerHost: steps, workerPeakRssMiB: mem.hwmKiB / 1024 };
    results.fanOut.push(row);
    log(`P1 ${n} hosts: ferry ${seconds(row.ferryMs)} s, raw ${seconds(row.rawMs)} s, ratio ${row.ratio.toFixed(2)}; P4 ${logins} logins/host over ${steps} steps/host; P6 peak RSS ${row.workerPeakRssMiB.toFixed(0)} MiB`);
  }
  clearHosts(env, env.names);

  // PC: the same deploy through the CLI process, against the raw baseline, alternating, per host count.
  for (const n of runs('pc') ? CLI_HOSTS : []) {
    const hosts = env.names.slice(0, n);
    const cli: number[] = [];
    const raw: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      clearHosts(env, hosts);
      cli.push(await timed(() => cliDeploy(env, project, hosts)));
      clearHosts(env, hosts);
      raw.push(await timed(() => rawDeploy(env, hosts, tarball)));
    }
    const row = { hosts: n, cliMs: median(cli), rawMs: median(raw), ratio: median(cli) / median(raw), cliRunsMs: cli, rawRunsMs: raw };
    (results.cli ??= []).push(row);
    log(`PC ${n} hosts: ferry CLI ${seconds(row.cliMs)} s, raw ${seconds(row.rawMs)} s, ratio ${row.ratio.toFixed(2)}`);
  }
  if (runs('pc')) {
    // The compiled CLI, as the installed package runs it (`npm run build` first; without dist/ this times the sources).
    process.env.FERRY_COMPILED = '1';
    const start = (args: string[]) => timed(() => run(process.execPath, args));
    const help: number[] = [];
    const bare: number[] = [];
    for (let r = 0; r < Math.max(RUNS, 5); r++) {
      help.push(await start([join(ROOT, 'bin', 'ferry'), '--help']));
      bare.push(await start(['-e', '0']));
    }
    delete process.env.FERRY_COMPILED;
    results.cliStart = { helpMs: median(help), nodeMs: median(bare), helpRunsMs: help };
    log(`PC ferry --help: ${seconds(median(help))} s (node -e 0: ${seconds(median(bare))} s)`);
  }
  clearHosts(env, env.names);

  // P2 orchestration overhead: a rollout in batches against the same work done raw, batch after batch.
  if (runs('p2')) {
    const hosts = env.names.slice(0, ROLLOUT_HOSTS);
    await env.killWorker();
    await env.startWorker();
    const ferry: number[] = [];
    const raw: number[] = [];
    let events = { parent: 0, children: 0, activities: 0 };
    for (let r = 0; r < RUNS; r++) {
      clearHosts(env, hosts);
      let id = '';
      ferry.push(await timed(async () => {
        const ro = await ferryRollout(env, config, hosts, BATCH);
        id = ro.workflowId;
        await ro.done;
      }));
      if (r === 0) {
        const { parent, children } = familyHistory(env, id);
        const childEvents = [...children.values()].flat();
        events = { parent: parent.length, children: childEvents.length, activities: count(childEvents, 'ActivityTaskScheduled') + count(parent, 'ActivityTaskScheduled') };
      }
      clearHosts(env, hosts);
      raw.push(await timed(async () => {
        for (let b = 0; b < hosts.length; b += BATCH) await rawDeploy(env, hosts.slice(b, b + BATCH), tarball);
      }));
    }
    // The parent's growth per host: against a one-host rollout of the same plan (a straight line through both).
    clearHosts(env, hosts);
    const one = await ferryRollout(env, config, hosts.slice(0, 1), BATCH);
    await one.done;
    const oneHost = familyHistory(env, one.workflowId).parent.length;
    const perHostParent = hosts.length > 1 ? (events.parent - oneHost) / (hosts.length - 1) : events.parent;
    const fixed = oneHost - perHostParent;
    const continueAsNewAt = 2000;
    results.rollout = {
      hosts: hosts.length,
      batch: BATCH,
      ferryMs: median(ferry),
      rawMs: median(raw),
      ratio: median(ferry) / median(raw),
      ferryRunsMs: ferry,
      rawRunsMs: raw,
      parentEvents: events.parent,
      childEvents: events.children,
      eventsPerHost: (events.parent + events.children) / hosts.length,
      parentEventsPerHost: perHostParent,
      parentFixedEvents: fixed,
      extrapolated500: { parentEvents: Math.round(fixed + perHostParent * 500), childEventsTotal: Math.round((events.children / hosts.length) * 500) },
      continueAsNewAfterEvents: continueAsNewAt,
      // It continues as new at the first batch boundary once the parent's history holds that many events.
      continueAsNewAtHosts: Math.ceil((continueAsNewAt - fixed) / perHostParent / BATCH) * BATCH,
      runsFor500: Math.ceil((fixed + perHostParent * 500) / continueAsNewAt),
    };
    log(`P2 ${hosts.length} hosts in batches of ${BATCH}: ferry ${seconds(median(ferry))} s, raw ${seconds(median(raw))} s; ${events.parent} parent + ${events.children} child events`);
  }
  clearHosts(env, env.names);

  // P3 availability: a client calls every node every 10 ms during a hot upgrade, then during a restart-based update.
  if (runs('p3')) {
    await env.killWorker();
    await env.startWorker();
    results.availability = await measureAvailability(env, config, env.names.slice(0, P3_HOSTS), { nextId, log });
  }

  // P5: kill -9 the worker while a rollout is mid-batch; time from the restart to work going on.
  if (runs('p5')) {
    const hosts = env.names.slice(0, Math.max(2, Math.min(env.names.length, 5)));
    const samples: Array<{ readyMs: number; workflowTaskMs: number; activityMs: number }> = [];
    for (let r = 0; r < RUNS; r++) {
      clearHosts(env, hosts);
      const ro = await ferryRollout(env, config, hosts, 1);
      // kill once the first host is done: the second batch is under way
      for (;;) {
        const q = env.temporal('workflow', 'query', '--workflow-id', ro.workflowId, '--type', 'progress', '--output', 'json');
        if (q.code === 0) {
          const p = (JSON.parse(q.out) as { queryResult: RolloutProgress[] }).queryResult[0]!;
          if (Object.values(p.stages[0]!.hosts).some((h) => h.outcome === 'ok')) break;
        }
        await sleep(100);
      }
      await env.killWorker('SIGKILL');
      const restartAt = Date.now();
      await env.startWorker();
      const readyMs = Date.now() - restartAt;
      await ro.done;
      const { parent, children } = familyHistory(env, ro.workflowId);
      const all = [parent, ...children.values()].flat();
      const after = (type: string) =>
        Math.min(...all.filter((e) => typeOf(e) === type && Date.parse(e.eventTime) > restartAt).map((e) => Date.parse(e.eventTime) - restartAt));
      samples.push({ readyMs, workflowTaskMs: after('WorkflowTaskCompleted'), activityMs: after('ActivityTaskCompleted') });
      log(`P5 run ${r + 1}: worker polling after ${readyMs} ms, first workflow task ${samples.at(-1)!.workflowTaskMs} ms, first activity done ${samples.at(-1)!.activityMs} ms`);
    }
    results.recovery = {
      hosts: hosts.length,
      readyMs: median(samples.map((s) => s.readyMs)),
      workflowTaskMs: median(samples.map((s) => s.workflowTaskMs)),
      activityMs: median(samples.map((s) => s.activityMs)),
      runs: samples,
    };
  }

  // P6 at scale: a fresh worker, one rollout (no node start) of P6_HOSTS hosts; the worker's peak RSS.
  if (runs('p6')) {
    const hosts = env.names.slice(0, P6_HOSTS);
    await env.killWorker();
    const worker = await env.startWorker();
    clearHosts(env, hosts);
    const idleMiB = memoryOf(worker.pid!).hwmKiB / 1024;
    const rolloutMs = await timed(async () => (await ferryRollout(env, config, hosts, P6_BATCH)).done);
    const peakMiB = memoryOf(worker.pid!).hwmKiB / 1024;
    results.scale = { hosts: hosts.length, batch: P6_BATCH, rolloutMs, workerIdlePeakRssMiB: idleMiB, workerPeakRssMiB: peakMiB };
    log(`P6 ${hosts.length} hosts in batches of ${P6_BATCH}: rollout ${seconds(rolloutMs)} s, worker peak RSS ${peakMiB.toFixed(0)} MiB (${idleMiB.toFixed(0)} MiB before it)`);
    clearHosts(env, hosts);
  }
  results.finishedAt = new Date().toISOString();
  return results;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
