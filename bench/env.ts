import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadDeliveryConfig } from '../client/config-file';
import type { DeliveryConfig } from '../core/config/schema';

/**
 * The environment a benchmark or fault-injection run brings up with the project's own scripts: a headless in-memory
 * Temporal dev server, `hosts` local sshd hosts (plus a build host), a fresh example repository and a `ferry worker`
 * child process. `down()` stops all of it.
 */
export const ROOT = join(__dirname, '..');
const TEMPORAL = join(ROOT, '.venv', 'bin', 'temporal');

export interface BenchEnvOptions {
  /** State directory (hosts, keys, store, logs). */
  state: string;
  temporalPort: number;
  /** The build host listens on portBase, host i (1-based) on portBase + i. */
  portBase: number;
  hosts: number;
  log?: (line: string) => void;
}

export type BenchEnv = Awaited<ReturnType<typeof benchEnv>>;

export async function benchEnv(o: BenchEnvOptions) {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const names = Array.from({ length: o.hosts }, (_, i) => `h${i + 1}`);
  const port = (name: string) => (name === 'build' ? o.portBase : o.portBase + Number(name.slice(1)));
  const hostSpec = ['build', ...names].map((n) => `${n}:${port(n)}`).join(' ');
  const scriptEnv = {
    ...process.env,
    FERRY_STATE: o.state,
    FERRY_HOSTS: hostSpec,
    TEMPORAL_PORT: String(o.temporalPort),
    TEMPORAL_UI_PORT: '0',
    TEMPORAL_DB: 'memory',
    TEMPORAL_BIN: TEMPORAL,
  };
  const script = (name: string, ...args: string[]) => execFileSync(join(ROOT, 'scripts', name), args, { env: scriptEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const address = `127.0.0.1:${o.temporalPort}`;
  let worker: ChildProcess | undefined;
  let connection: Connection | undefined;

  const down = async () => {
    if (worker) await stopProcess(worker, 'SIGKILL');
    await connection?.close().catch(() => undefined);
    for (const [name, ...args] of [['local-hosts.sh', 'stop'], ['dev-server.sh', 'stop']]) {
      try {
        script(name!, ...args);
      } catch {
        // best effort: the next one still runs
      }
    }
  };

  mkdirSync(o.state, { recursive: true });
  try {
    script('local-hosts.sh', 'clean');
    rmSync(join(o.state, 'store'), { recursive: true, force: true });
    log(script('dev-server.sh', 'start').trim());
    log(`starting ${names.length} hosts and a build host on ports ${o.portBase}-${o.portBase + names.length}`);
    script('local-hosts.sh', 'start');
    const exampleRepo = join(o.state, 'example');
    script('example-repo.sh', exampleRepo);
    connection = await Connection.connect({ address });
  } catch (err) {
    await down();
    throw err;
  }
  const client = new Client({ connection, namespace: 'default' });
  const knownHosts = join(o.state, 'ssh', 'known_hosts');
  const identity = join(o.state, 'ssh', 'id_ed25519');
  const hostName = (name: string) => `127.0.0.1:${port(name)}`;

  /** A project (a copy of the example repository) whose production environment lists every host. */
  const project = (extra = ''): string => {
    const dir = join(o.state, `project-${Math.random().toString(36).slice(2, 8)}`);
    cpSync(join(o.state, 'example'), dir, { recursive: true });
    writeFileSync(
      join(dir, '.deliver', 'config'),
      `APP="hello"
BUILD_HOST="${hostName('build')}"
BUILD_USER="root"
BUILD_AT="/opt/ferry-build/hello"
PRODUCTION_HOSTS="${names.map(hostName).join(' ')}"
PRODUCTION_USER="root"
DELIVER_TO="/opt/ferry"
NODE_NAME='hello_{port}@127.0.0.1'
RELEASE_STORE="${join(o.state, 'store')}"
SSH_KNOWN_HOSTS="${knownHosts}"
SSH_IDENTITY_FILE="${identity}"
${extra}`,
    );
    return dir;
  };

  const workerLog = join(o.state, 'worker.log');
  const workerEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: address,
    FERRY_WORKER_FILES: resolve(o.state),
    FERRY_SSH_KNOWN_HOSTS: knownHosts,
    FERRY_SSH_IDENTITY_FILE: identity,
    FERRY_LOG_LEVEL: 'info',
    FERRY_LOG_FILE: workerLog,
  };
  const workerStarts = () => (existsSync(workerLog) ? (readFileSync(workerLog, 'utf8').match(/"worker started"/g) ?? []).length : 0);

  return {
    state: o.state,
    address,
    client,
    names,
    port,
    hostName,
    knownHosts,
    identity,
    project,
    config: (dir: string): Promise<DeliveryConfig> => loadDeliveryConfig({ cwd: dir }),
    /** The host's /opt as this process sees it. */
    hostRoot: (name: string) => join(o.state, 'hosts', name, 'root'),
    /** Logins the host's sshd accepted so far (its log is VERBOSE). */
    logins: (name: string) => (readFileSync(join(o.state, 'hosts', name, 'sshd.log'), 'utf8').match(/Accepted publickey/g) ?? []).length,
    sshdPid: (name: string) => Number(readFileSync(join(o.state, 'hosts', name, 'sshd.pid'), 'utf8').trim()),
    /** Starts `ferry worker` as a child process (replacing none); resolves once it polls the task queue. */
    async startWorker(): Promise<ChildProcess> {
      const before = workerStarts();
      const w = spawn(join(ROOT, 'bin', 'ferry'), ['worker'], { stdio: ['ignore', 'ignore', 'pipe'], env: workerEnv });
      w.stderr?.on('data', (d: Buffer) => log(`[worker] ${d.toString().trimEnd()}`));
      worker = w;
      while (workerStarts() === before) {
        if (w.exitCode !== null) throw new Error(`the worker exited with ${w.exitCode}; see ${workerLog}`);
        await sleep(50);
      }
      return w;
    },
    get worker() {
      return worker;
    },
    async killWorker(signal: NodeJS.Signals = 'SIGKILL') {
      if (worker) await stopProcess(worker, signal);
      worker = undefined;
    },
    /** `temporal <args> --address ...`: status, stdout, stderr. */
    temporal(...args: string[]) {
      const r = spawnSync(TEMPORAL, [...args, '--address', address], { encoding: 'utf8', timeout: 120_000, maxBuffer: 256 << 20 });
      return { code: r.status, out: r.stdout, err: r.stderr };
    },
    /** The ferry CLI in `cwd`. */
    ferry(cwd: string, ...args: string[]) {
      const r = spawnSync(join(ROOT, 'bin', 'ferry'), args, { cwd, encoding: 'utf8', timeout: 600_000, env: { ...process.env, TEMPORAL_ADDRESS: address } });
      return { code: r.status, out: r.stdout, err: r.stderr };
    },
    /** OpenSSH's client with the hosts' key and strict host key checking, as every test uses. */
    sshArgs: (name: string, scp = false) => [
      '-F', '/dev/null', '-i', identity, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${knownHosts}`,
      '-o', 'StrictHostKeyChecking=yes', '-o', 'LogLevel=ERROR', scp ? '-P' : '-p', String(port(name)),
    ],
    down,
  };
}

export async function stopProcess(p: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill(signal);
  await exited;
}

/** Removes what a deploy left on the hosts, so that every run does the full work. */
export function clearHosts(env: BenchEnv, hosts: string[]): void {
  for (const h of hosts) for (const d of ['ferry', 'raw', 'raw.tar.gz']) rmSync(join(env.hostRoot(h), d), { recursive: true, force: true });
}

/** Runs `cmd` and resolves with its exit status (rejects on a non-zero one). */
export function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim()}`))));
  });
}

/** Peak and current resident set size of a process, in KiB, from /proc/<pid>/status. */
export function memoryOf(pid: number): { hwmKiB: number; rssKiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { hwmKiB: kib('VmHWM'), rssKiB: kib('VmRSS') };
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Small deterministic PRNG (mulberry32) for seeded fault injection. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One event of a workflow run's history, as `temporal workflow show --output json` prints it (a continued-as-new chain is not followed). */
export interface HistoryEvent {
  eventId: string;
  eventTime: string;
  eventType: string;
  childWorkflowExecutionStartedEventAttributes?: { workflowExecution: { workflowId: string; runId: string } };
}
