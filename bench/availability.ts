import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { buildRequest, buildUpgradeRequest, deployRequest, deployUpgradeRequest, nodeCommandRequest } from '../client/requests';
import type { DeliveryConfig } from '../core/config/schema';
import { releaseLayout } from '../core/domain/host';
import type { DeployStatus } from '../core/domain/requests';
import { ROOT, clearHosts, sleep, stopProcess, type BenchEnv } from './env';

/**
 * P3: availability of the nodes while they change version. A hidden Erlang node (bench/p3_client.erl) calls every
 * node every INTERVAL ms during a hot upgrade (`deployUpgrade`, what `ferry deploy upgrade to production` runs) and
 * during a restart-based update (`deployRelease` with startDeploy, what `ferry update production --start-deploy`
 * runs after its build), both from FROM to TO on freshly deployed nodes. 0.2.0 -> 0.3.0 is the example's upgrade
 * that converts the state of a running gen_server (hello_server, suspended meanwhile), which the probe calls.
 */
const FROM = '0.2.0';
const TO = '0.3.0';
const INTERVAL_MS = 10;
/** How long the probe goes on after the workflow returned. */
const AFTER_MS = 1000;

/** One node as the probe saw it. */
export interface ProbeRow {
  node: string;
  calls: number;
  failed: number;
  longestGapMs: number;
  /** The versions hello:version() answered, in the order seen. */
  versions: string[];
  /** Times hello_server's counter did not go on from its last value: the state was lost. */
  stateResets: number;
  pidBefore: string;
  pidAfter: string;
  firstError: string | null;
}

export interface AvailabilityRun {
  hosts: number;
  /** The workflow's duration (the deploy upgrade, or the deploy with restart). */
  workflowMs: number;
  calls: number;
  failed: number;
  longestGapMs: number;
  pidsUnchanged: boolean;
  /** No node lost hello_server's counter. */
  stateKept: boolean;
  /** Every node answered TO last. */
  onTarget: boolean;
  nodes: ProbeRow[];
}

export interface Availability {
  from: string;
  to: string;
  intervalMs: number;
  hot: AvailabilityRun;
  restart: AvailabilityRun;
}

interface Deps {
  nextId: (what: string) => string;
  log: (line: string) => void;
}

export async function measureAvailability(env: BenchEnv, config: DeliveryConfig, hosts: string[], { nextId, log }: Deps): Promise<Availability> {
  const execute = <T>(type: string, what: string, req: unknown) => env.client.workflow.execute(type, { taskQueue: 'ferry', workflowId: nextId(what), args: [req] }) as Promise<T>;
  const host = hosts.map(env.hostName);
  const nodes = hosts.map((h) => `hello_${env.port(h)}@127.0.0.1`);
  const deploy = (version: string) => execute<DeployStatus>('deployRelease', 'p3-deploy', deployRequest(config, 'production', { version, host, startDeploy: true }));
  const stopNodes = () => execute('nodeCommand', 'p3-stop', nodeCommandRequest(config, 'production', 'stop', host));

  log(`P3: building ${FROM}, ${TO} and the upgrade ${FROM} -> ${TO}`);
  for (const tag of [FROM, TO]) await execute('buildRelease', 'build', buildRequest(config, { tag }));
  await execute('buildUpgrade', 'build-upgrade', buildUpgradeRequest(config, { from: FROM, to: TO }));

  /** Fresh nodes on FROM, then `change` under the probe; the probe goes on AFTER_MS after it returned. */
  const measure = async (label: string, change: () => Promise<unknown>): Promise<AvailabilityRun> => {
    clearHosts(env, hosts);
    await deploy(FROM);
    const probe = await startProbe(nodes, cookieOf(env, hosts[0]!), log);
    let rows: ProbeRow[];
    let workflowMs: number;
    try {
      const t = performance.now();
      await change();
      workflowMs = performance.now() - t;
      await sleep(AFTER_MS);
    } finally {
      rows = await probe.stop();
    }
    await stopNodes();
    const run: AvailabilityRun = {
      hosts: hosts.length,
      workflowMs,
      calls: rows.reduce((s, r) => s + r.calls, 0),
      failed: rows.reduce((s, r) => s + r.failed, 0),
      longestGapMs: Math.max(...rows.map((r) => r.longestGapMs)),
      pidsUnchanged: rows.every((r) => r.pidBefore !== '' && r.pidBefore === r.pidAfter),
      stateKept: rows.every((r) => r.stateResets === 0),
      onTarget: rows.length === nodes.length && rows.every((r) => r.versions.at(-1) === TO),
      nodes: rows,
    };
    log(
      `P3 ${label}, ${hosts.length} hosts: ${run.calls} calls, ${run.failed} failed, longest gap ${run.longestGapMs} ms, ` +
        `pids ${run.pidsUnchanged ? 'unchanged' : 'changed'}, state ${run.stateKept ? 'kept' : 'lost'}, ${run.onTarget ? `all on ${TO}` : `NOT all on ${TO}`}; workflow ${Math.round(workflowMs)} ms`,
    );
    return run;
  };

  try {
    const hot = await measure('hot upgrade', () => execute<DeployStatus>('deployUpgrade', 'p3-upgrade', deployUpgradeRequest(config, 'production', { version: TO, host })));
    const restart = await measure('restart', () => deploy(TO));
    return { from: FROM, to: TO, intervalMs: INTERVAL_MS, hot, restart };
  } finally {
    await stopNodes().catch((err: unknown) => log(`P3: stopping the nodes failed: ${String(err)}`));
    clearHosts(env, hosts);
  }
}

/** The cookie the deployed node really uses: the `-setcookie` line of the vm.args Ferry wrote on the host. */
function cookieOf(env: BenchEnv, hostName: string): string {
  const vmArgs = releaseLayout('/opt/ferry', 'hello').vmArgs.replace(/^\/opt\//, '');
  const cookie = /^-setcookie\s+(\S+)\s*$/m.exec(readFileSync(join(env.hostRoot(hostName), vmArgs), 'utf8'))?.[1];
  if (!cookie || !/^[\w.@+=-]+$/.test(cookie)) throw new Error(`no usable -setcookie line in ${hostName}'s ${vmArgs}`);
  return cookie;
}

/** Starts bench/p3_client.erl; resolves once every node answered. `stop()` ends it and returns its rows. */
async function startProbe(nodes: string[], cookie: string, log: (line: string) => void) {
  const p = spawn('escript', [join(ROOT, 'bench', 'p3_client.erl'), String(INTERVAL_MS), ...nodes], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ERL_FLAGS: `-name p3client_${process.pid}@127.0.0.1 -hidden -setcookie ${cookie}` },
  });
  // 'close': the process ended and its output was read to the end
  const exited = new Promise<number | null>((r) => p.once('close', (code) => r(code)));
  let err = '';
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const lines: string[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: p.stdout }).on('line', (l) => (l === 'ready' ? resolve() : lines.push(l)));
    void exited.then((code) => reject(new Error(`the availability probe exited with ${code} before it was ready: ${err.trim()}`)));
  });
  try {
    await ready;
  } catch (e) {
    await stopProcess(p, 'SIGKILL');
    throw e;
  }
  log(`P3: probing ${nodes.length} nodes every ${INTERVAL_MS} ms`);
  return {
    async stop(): Promise<ProbeRow[]> {
      p.stdin.end('stop\n');
      const code = await Promise.race([exited, sleep(30_000).then(() => 'timeout' as const)]);
      if (code !== 0) {
        await stopProcess(p, 'SIGKILL');
        throw new Error(`the availability probe ended with ${code}: ${err.trim()}`);
      }
      return lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as ProbeRow);
    },
  };
}
