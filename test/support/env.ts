import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection, Client } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import type { SshAuth } from '../../activities/ssh/ssh-pool';
import { s3SettingsFromEnv, type S3Settings } from '../../activities/store';
import type { HostTarget, SshTarget } from '../../core/domain/host';
import { createWorker } from '../../worker/create';

/** The test environment that scripts/with-test-env.sh set up; fails loudly when run without it. */
export function testEnv() {
  const state = process.env.FERRY_STATE;
  const hostsSpec = process.env.FERRY_HOSTS;
  if (!state || !hostsSpec || !process.env.TEMPORAL_ADDRESS) {
    throw new Error('run integration tests through `npm test` (scripts/with-test-env.sh sets up hosts and Temporal)');
  }
  // name:address:port, or name:port on 127.0.0.1 (scripts/local-hosts.sh)
  const hosts = new Map(
    hostsSpec.trim().split(/\s+/).map((spec) => {
      const [name, ...rest] = spec.split(':');
      const port = Number(rest.pop());
      return [name!, { address: rest[0] ?? '127.0.0.1', port }] as const;
    }),
  );
  const endpoint = (name: string) => {
    const h = hosts.get(name);
    if (!h) throw new Error(`no test host "${name}" in FERRY_HOSTS (${hostsSpec})`);
    return h;
  };
  return {
    state,
    temporalAddress: process.env.TEMPORAL_ADDRESS,
    exampleRepo: process.env.FERRY_EXAMPLE_REPO ?? join(state, 'example'),
    /** The mix example app's repository (scripts/example-mix-repo.sh): tags 0.1.0 and 0.2.0. */
    exampleMixRepo: process.env.FERRY_EXAMPLE_MIX_REPO ?? join(state, 'example-mix'),
    /** The umbrella release's repository (scripts/example-umbrella-repo.sh): tags 1.0.0 to 4.0.0. */
    exampleUmbrellaRepo: process.env.FERRY_EXAMPLE_UMBRELLA_REPO ?? join(state, 'example-umbrella'),
    knownHosts: join(state, 'ssh', 'known_hosts'),
    identity: join(state, 'ssh', 'id_ed25519'),
    port: (name: string): number => endpoint(name).port,
    /** The host's own loopback address (127.0.0.2, 127.0.0.3, ...): each test host is a separate "machine". */
    addr: (name: string): string => endpoint(name).address,
    /** `address:port`, the host as a config names it and as requests and reports name it. */
    host: (name: string): string => `${endpoint(name).address}:${endpoint(name).port}`,
    /** The host as reached through 127.0.0.1 at its port, as machines behind one port-forwarding gateway share an address. */
    gateway: (name: string): string => `127.0.0.1:${endpoint(name).port}`,
    /** `host(name)` for a RegExp. */
    hostRe: (name: string): string => `${endpoint(name).address}:${endpoint(name).port}`.replaceAll('.', '\\.'),
    /** The host's /opt as the test runner sees it. */
    hostRoot: (name: string): string => join(state, 'hosts', name, 'root'),
    /** A path under the host's own /opt, /srv, /tmp or /etc, as the test runner sees it. */
    hostPath(name: string, path: string): string {
      const m = /^\/(opt|srv|tmp|etc)(\/.*)?$/.exec(path);
      if (!m) throw new Error(`${path}: a test host has its own /opt, /srv, /tmp and /etc, and shares the rest with this machine`);
      return join(state, 'hosts', name, m[1] === 'opt' ? 'root' : m[1]!, m[2] ?? '');
    },
    sshdLog: (name: string): string => join(state, 'hosts', name, 'sshd.log'),
  };
}

export type TestEnv = ReturnType<typeof testEnv>;

export const sshTarget = (env: TestEnv, name: string): SshTarget => ({
  name: env.host(name),
  address: env.addr(name),
  port: env.port(name),
  user: 'root',
});

export const hostTarget = (env: TestEnv, name: string, deployTo = '/opt/ferry'): HostTarget => ({
  ...sshTarget(env, name),
  deployTo,
  nodeName: `hello_${env.port(name)}@127.0.0.1`,
});

export const testAuth = (env: TestEnv): SshAuth => ({
  knownHostsFile: env.knownHosts,
  identityFiles: [env.identity],
  connectTimeoutMs: 5000,
});

/** Logins a host's sshd accepted so far (its log is VERBOSE). */
export const loginCount = (env: TestEnv, name: string): number =>
  (readFileSync(env.sshdLog(name), 'utf8').match(/Accepted publickey/g) ?? []).length;

let runtimeInstalled = false;

/** An in-process worker on its own task queue, plus a client; `stop()` shuts both down. */
export async function startWorker(env: TestEnv, taskQueue: string, auth: SshAuth = testAuth(env), s3: S3Settings = s3SettingsFromEnv(process.env)) {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const nativeConnection = await NativeConnection.connect({ address: env.temporalAddress });
  const { worker, ssh } = await createWorker({ connection: nativeConnection, namespace: 'default', auth, taskQueue, s3 });
  const running = worker.run();
  const connection = await Connection.connect({ address: env.temporalAddress });
  const client = new Client({ connection, namespace: 'default' });
  return {
    client,
    ssh,
    taskQueue,
    async stop() {
      worker.shutdown();
      await running;
      await ssh.close();
      await nativeConnection.close();
      await connection.close();
    },
  };
}

/** A private copy of the example repository (or another one) with the given `.deliver/config` text. */
export function exampleProject(env: TestEnv, config: string, repo = env.exampleRepo): string {
  const dir = mkdtempSync(join(env.state, 'project-'));
  cpSync(repo, dir, { recursive: true });
  writeFileSync(join(dir, '.deliver', 'config'), config);
  return dir;
}

/** A config for the test hosts, as a user would write it. */
export function testConfig(env: TestEnv, extra = ''): string {
  return `APP="hello"
BUILD_HOST="${env.host('build')}"
BUILD_USER="root"
BUILD_AT="/opt/ferry-build/hello"
PRODUCTION_HOSTS="${env.host('prod1')} ${env.host('prod2')} ${env.host('prod3')}"
PRODUCTION_USER="root"
DELIVER_TO="/opt/ferry"
NODE_NAME='hello_{port}@127.0.0.1'
RELEASE_STORE="${join(env.state, 'store')}"
SSH_KNOWN_HOSTS="${env.knownHosts}"
SSH_IDENTITY_FILE="${env.identity}"
${extra}`;
}

/** Runs a command on the test machine (not on a host) and returns stdout. */
export const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });

/**
 * A known_hosts file in which `host` is listed with the key of `keyOf`: what a reinstalled host or a man in the
 * middle looks like to strict host key checking. Every other host keeps its real key.
 */
export function mismatchedKnownHosts(env: TestEnv, host: string, keyOf: string): string {
  const file = join(env.state, `known_hosts.${host}-as-${keyOf}`);
  const lines = readFileSync(env.knownHosts, 'utf8').trim().split('\n');
  const entry = (name: string) => `[${env.addr(name)}]:${env.port(name)} `;
  const key = lines.find((l) => l.startsWith(entry(keyOf)))!.slice(entry(keyOf).length);
  writeFileSync(file, `${lines.filter((l) => !l.startsWith(entry(host))).join('\n')}\n${entry(host)}${key}\n`);
  return file;
}

/** Removes every upgrade from the test store (tests that mean "the newest upgrade" must not see an older run's). */
export function removeUpgrades(env: TestEnv): void {
  const store = join(env.state, 'store');
  if (!existsSync(store)) return;
  for (const name of readdirSync(store)) if (/\.upgrade\.tar\.gz/.test(name)) rmSync(join(store, name), { force: true });
}

/**
 * Stops each host of `names` (its nodes too) and starts it again with sshd's `SetEnv` of `setenv(host)` (`NAME=VALUE`
 * each, through `scripts/local-hosts.sh --setenv`): every command on it sees those variables. `() => []` restores the
 * plain host. Same keys, same files.
 */
export function setHostEnv(env: TestEnv, names: string[], setenv: (host: string) => string[]): void {
  const localHosts = (name: string, ...args: string[]) =>
    execFileSync(join(__dirname, '..', '..', 'scripts', 'local-hosts.sh'), ['--hosts', `${name}:${env.host(name)}`, ...args], { stdio: 'ignore' });
  for (const n of names) {
    localHosts(n, 'stop');
    localHosts(n, ...setenv(n).flatMap((e) => ['--setenv', e]), 'start');
  }
}

/** Runs `fn` while the hosts `names` run with `setenv` (see setHostEnv); then they are plain hosts again. */
export async function withHostEnv<T>(env: TestEnv, names: string[], setenv: (host: string) => string[], fn: () => Promise<T>): Promise<T> {
  try {
    setHostEnv(env, names, setenv);
    return await fn();
  } finally {
    setHostEnv(env, names, () => []);
  }
}

/** The port of the epmd a host has of its own under `ownEpmd`: its SSH port + 20000, unique as those are. */
export const epmdPort = (env: TestEnv, name: string): number => env.port(name) + 20000;

/**
 * For setHostEnv and withHostEnv: each host gets its own epmd (`ERL_EPMD_PORT`, see `epmdPort`). Nodes of the same name
 * can then run on several hosts, as on separate machines, but they cannot cluster.
 */
export const ownEpmd =
  (env: TestEnv) =>
  (host: string): string[] => [`ERL_EPMD_PORT=${epmdPort(env, host)}`];

/**
 * Runs `fn` while host `name` answers from an sshd whose sessions get `PATH=/opt/trimmed-bin` (sshd's SetEnv): a
 * directory of links to every program of /usr/local/bin, /usr/bin and /bin except `without`. That is a host where those
 * tools are not on the login PATH.
 */
export async function withTrimmedPath<T>(env: TestEnv, name: string, without: string[], fn: () => Promise<T>): Promise<T> {
  const bin = join(env.hostRoot(name), 'trimmed-bin');
  rmSync(bin, { recursive: true, force: true });
  mkdirSync(bin, { recursive: true });
  for (const dir of ['/usr/local/bin', '/usr/bin', '/bin']) {
    if (!existsSync(dir)) continue;
    for (const program of readdirSync(dir)) {
      if (!without.includes(program) && !existsSync(join(bin, program))) symlinkSync(join(dir, program), join(bin, program));
    }
  }
  return withHostEnv(env, [name], () => ['PATH=/opt/trimmed-bin'], fn);
}
