import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { finished, pipeline } from 'node:stream/promises';
import { Transform, Writable, type Duplex, type Readable } from 'node:stream';
import { Client, utils, type AnyAuthMethod, type ClientChannel, type SFTPWrapper } from 'ssh2';
import { announceSession, SESSION_LINE, terminateSession } from '../../core/commands/session';
import type { Argv } from '../../core/commands/shell';
import { toShell } from '../../core/commands/shell';
import { parseJump, type SshTarget } from '../../core/domain/host';
import {
  AuthenticationError,
  CommandTimedOutError,
  HostKeyError,
  HostUnreachableError,
  RemoteCommandError,
} from '../../core/domain/errors';
import { StepDeadline, stepSignal } from '../heartbeat';
import { scanHostKey, type ScannedKey } from './host-key';
import { knownKeysFor } from './known-hosts';
import { readSshConfig } from './ssh-config';

/** Where the worker finds keys and known hosts; a project may override both (paths, never key material). */
export interface SshAuth {
  knownHostsFile: string;
  identityFiles: string[];
  /** SSH_AUTH_SOCK of the worker, when it has an agent. */
  agentSocket?: string;
  connectTimeoutMs: number;
  /** The OpenSSH client config read for every host (FERRY_SSH_CONFIG, else ~/.ssh/config); absent or `none`: none. */
  sshConfigFile?: string;
  /** identityFiles / knownHostsFile are OpenSSH's defaults, which IdentityFile / UserKnownHostsFile of the config replace. */
  defaultIdentities?: boolean;
  defaultKnownHosts?: boolean;
}

export interface RemoteResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  stdin?: string;
  /** Called with every chunk of stdout and stderr, for streaming build output. */
  onOutput?: (chunk: string) => void;
  /** Resolve with a non-zero exit code instead of throwing RemoteCommandError. */
  allowFailure?: boolean;
}

/** The worker's defaults, as OpenSSH's: `~/.ssh/known_hosts`, the usual key files and the agent; env vars override. */
export function defaultSshAuth(env: NodeJS.ProcessEnv = process.env): SshAuth {
  const ssh = join(homedir(), '.ssh');
  const identity = env.FERRY_SSH_IDENTITY_FILE;
  return {
    knownHostsFile: env.FERRY_SSH_KNOWN_HOSTS ?? join(ssh, 'known_hosts'),
    identityFiles: identity ? [identity] : ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(ssh, f)),
    agentSocket: env.SSH_AUTH_SOCK,
    connectTimeoutMs: Number(env.FERRY_SSH_CONNECT_TIMEOUT_MS ?? 10_000),
    sshConfigFile: env.FERRY_SSH_CONFIG ?? join(ssh, 'config'),
    defaultIdentities: !identity,
    defaultKnownHosts: !env.FERRY_SSH_KNOWN_HOSTS,
  };
}

/** A host as the pool connects to it: the host's own options, then the SSH config, then the worker's defaults. */
export interface Route {
  name: string;
  address: string;
  port: number;
  user: string;
  identityFiles: string[];
  /** IdentitiesOnly yes: only the identity files, not the agent's other keys. */
  identitiesOnly: boolean;
  knownHostsFile: string;
  connectTimeoutMs: number;
  /** The last jump host, itself with the hops before it; absent when the host is reached directly. */
  via?: SshTarget;
}

/**
 * Applies the OpenSSH client config (`auth.sshConfigFile`) to a host, with Ferry's precedence: values the project set
 * (`user@host:port`, <ENV>_SSH_JUMP, ...) > the SSH config for the host's name > the worker's defaults. The config's
 * HostName, Port, IdentityFile, ProxyJump, ConnectTimeout, UserKnownHostsFile and IdentitiesOnly are used. Throws
 * InputError for a ProxyJump the config writes wrongly.
 */
export function resolveRoute(host: SshTarget, auth: SshAuth): Route {
  const file = auth.sshConfigFile && auth.sshConfigFile !== 'none' ? auth.sshConfigFile : undefined;
  const cfgOf = (alias: string, user: string, port?: number) => (file ? readSshConfig(file, alias, { user, port }) : {});
  const cfg = cfgOf(host.address, host.user, host.portUnset ? undefined : host.port);
  const hops = host.jump ?? (cfg.proxyJump ? parseJump(cfg.proxyJump, `${file}: ProxyJump for ${host.address}`) : []);
  const last = hops.at(-1);
  const via: SshTarget | undefined = last && {
    name: last.name,
    address: last.address,
    port: last.port,
    // A hop without `user@`: its User in the SSH config, else the target's user.
    user: last.user ?? cfgOf(last.address, host.user).user ?? host.user,
    ...(last.portUnset ? { portUnset: true as const } : {}),
    jump: hops.slice(0, -1),
    ...(host.identityFile ? { identityFile: host.identityFile } : {}),
    ...(host.connectTimeout ? { connectTimeout: host.connectTimeout } : {}),
  };
  const timeout = host.connectTimeout ?? cfg.connectTimeoutSeconds;
  return {
    name: host.name,
    address: cfg.hostName ?? host.address,
    port: host.portUnset && cfg.port ? cfg.port : host.port,
    user: host.user,
    identityFiles: host.identityFile ? [host.identityFile] : auth.defaultIdentities && cfg.identityFiles ? cfg.identityFiles : auth.identityFiles,
    identitiesOnly: cfg.identitiesOnly ?? false,
    knownHostsFile: auth.defaultKnownHosts && cfg.userKnownHostsFile ? cfg.userKnownHostsFile : auth.knownHostsFile,
    connectTimeoutMs: timeout !== undefined ? timeout * 1000 : auth.connectTimeoutMs,
    ...(via ? { via } : {}),
  };
}

/**
 * The system `ssh` command line that reaches `host` as the pool does (for git): the resolved address is the caller's
 * to use; strict host key checking against the same known_hosts, the same key files, no other config file, and each
 * jump host as a nested ProxyCommand with the same options.
 */
export function openSshArgv(host: SshTarget, auth: SshAuth): { argv: string[]; route: Route } {
  const route = resolveRoute(host, auth);
  const ownKeys = route.identityFiles !== auth.identityFiles || !auth.defaultIdentities;
  const argv = [
    'ssh', '-F', 'none', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${route.knownHostsFile}`,
    '-o', `ConnectTimeout=${Math.ceil(route.connectTimeoutMs / 1000)}`,
    ...(ownKeys ? ['-o', 'IdentitiesOnly=yes', ...route.identityFiles.filter((f) => existsSync(f)).flatMap((f) => ['-i', f])] : []),
  ];
  if (route.via) {
    const hop = openSshArgv(route.via, auth);
    const to = `${route.address.replace(/^\[|\]$/g, '')}:${route.port}`;
    argv.push('-o', `ProxyCommand=${toShell([...hop.argv, '-W', to, '-p', String(hop.route.port), `${hop.route.user}@${hop.route.address.replace(/^\[|\]$/g, '')}`])}`);
  }
  return { argv, route };
}

interface Pooled {
  client: Client;
  key: string;
  sftp?: Promise<SFTPWrapper>;
  idle?: NodeJS.Timeout;
  busy: number;
  /** Jump hosts in front of it: hosts behind a jump are closed before the jump. */
  depth: number;
}

interface Lease {
  pooled: Pooled;
  release(): void;
}

/**
 * SSH connections cached per host (one handshake per host, reused by every step while it is busy or
 * idle for less than `idleMs`), each verified against known_hosts with strict checking. The only code that imports ssh2.
 */
export class SshPool {
  private readonly conns = new Map<string, Promise<Pooled>>();
  /** Handshakes made, per `user@host:port`: what the benchmarks count. */
  readonly handshakes = new Map<string, number>();

  /**
   * `stallMs`: a transfer that moves no bytes for this long fails (the TRANSFER policy's heartbeat timeout). Commands
   * and transfers also stop with the step that runs them (`stepSignal`: its cancellation or its time limit).
   */
  constructor(
    private readonly auth: SshAuth,
    private readonly idleMs = 15_000,
    private readonly stallMs = 20_000,
  ) {}

  /** Runs the command through the login shell; rejects with RemoteCommandError unless the exit code is 0. */
  async run(host: SshTarget, command: Argv | string, opts: RunOptions = {}, auth?: Partial<SshAuth>): Promise<RemoteResult> {
    const line = typeof command === 'string' ? command : toShell(command);
    return this.using(host, auth, async ({ client }) => {
      const result = await exec(client, host.name, line, { ...opts, signal: anySignal(opts.signal, stepSignal()) });
      if (result.exitCode !== 0 && !opts.allowFailure) {
        throw new RemoteCommandError(host.name, line, result.exitCode, `${result.stderr}\n${result.stdout}`.trim());
      }
      return result;
    });
  }

  /** Streams a local file to the host over SFTP; returns the sha256 of the bytes sent. */
  async putFile(host: SshTarget, localPath: string, remotePath: string, onBytes?: (sent: number) => void, auth?: Partial<SshAuth>): Promise<string> {
    return this.putStream(host, createReadStream(localPath), remotePath, onBytes, auth);
  }

  /** Streams any readable (a store object, another host's file) to the host over SFTP; returns the sha256 of the bytes sent. */
  async putStream(host: SshTarget, source: Readable, remotePath: string, onBytes?: (sent: number) => void, auth?: Partial<SshAuth>): Promise<string> {
    return this.using(host, auth, (pooled) =>
      this.guarded(host, `the upload to ${remotePath}`, pooled, async (signal, moved) => {
        const sftp = await abortable(this.sftp(pooled), signal);
        const hash = createHash('sha256');
        await pipeline(source, counter(hash, onBytes, moved), sftpWriter(sftp, remotePath, moved), { signal });
        return hash.digest('hex');
      }),
    );
  }

  /**
   * Opens a remote file for reading over SFTP. The connection counts as busy until the stream ends or fails, so the
   * idle timer cannot close it mid-transfer.
   */
  readStream(host: SshTarget, remotePath: string, auth?: Partial<SshAuth>): Promise<Readable> {
    return new Promise((resolve, reject) => {
      this.using(host, auth, async (pooled) => {
        const sftp = await this.sftp(pooled);
        const stream = sftp.createReadStream(remotePath);
        resolve(stream);
        await finished(stream).catch(() => undefined);
      }).catch(reject);
    });
  }

  /** Streams a remote file to a local path over SFTP; returns the sha256 of the bytes received. */
  async getFile(host: SshTarget, remotePath: string, localPath: string, onBytes?: (got: number) => void, auth?: Partial<SshAuth>): Promise<string> {
    return this.using(host, auth, (pooled) =>
      this.guarded(host, `the download of ${remotePath}`, pooled, async (signal, moved) => {
        const sftp = await abortable(this.sftp(pooled), signal);
        const hash = createHash('sha256');
        await pipeline(sftp.createReadStream(remotePath), counter(hash, onBytes, moved), createWriteStream(localPath), { signal });
        return hash.digest('hex');
      }),
    );
  }

  /**
   * Runs a transfer that stops with a clear error the moment its SSH connection closes (a dropped connection does not
   * always fail a pending SFTP write), when it moves no bytes for `stallMs` (the connection is then dropped, so that the
   * step's retry makes a new one), or when the step is cancelled or runs out of time. `moved` marks progress.
   */
  private async guarded<T>(host: SshTarget, what: string, pooled: Pooled, transfer: (signal: AbortSignal, moved: () => void) => Promise<T>): Promise<T> {
    const stop = new AbortController();
    const lost = () => stop.abort(new HostUnreachableError(`${host.name}: the SSH connection closed during ${what}`));
    const step = stepSignal();
    const ended = () => stop.abort(step?.reason instanceof StepDeadline ? new CommandTimedOutError(host.name, step.reason.seconds, `${what} (the step's time limit)`) : step?.reason);
    let last = Date.now();
    const watch = setInterval(() => {
      if (Date.now() - last < this.stallMs) return;
      clearInterval(watch);
      stop.abort(new HostUnreachableError(`${host.name}: ${what} stalled: nothing moved for ${this.stallMs / 1000} s; the connection was dropped`));
      this.conns.delete(pooled.key);
      pooled.client.destroy();
    }, Math.min(1000, this.stallMs / 4));
    pooled.client.once('close', lost);
    if (step?.aborted) ended();
    step?.addEventListener('abort', ended, { once: true });
    try {
      return await transfer(stop.signal, () => (last = Date.now()));
    } catch (err) {
      throw stop.signal.aborted ? stop.signal.reason : err;
    } finally {
      clearInterval(watch);
      pooled.client.off('close', lost);
      step?.removeEventListener('abort', ended);
    }
  }

  /** How the pool reaches a host (SSH config and project options applied), for reports such as `ferry doctor`. */
  route(host: SshTarget, override?: Partial<SshAuth>): Route {
    return resolveRoute(host, { ...this.auth, ...definedOnly(override) });
  }

  /**
   * The host key a host presents, without logging in to it (for `ferry trust`). A host behind a jump host is reached
   * through the pooled jump connection, whose own key must already be in known_hosts (HostKeyError otherwise).
   */
  async scanKey(host: SshTarget, override?: Partial<SshAuth>): Promise<{ route: Route; key: ScannedKey }> {
    const auth = { ...this.auth, ...definedOnly(override) };
    const route = resolveRoute(host, auth);
    if (!route.via) return { route, key: await scanHostKey(route.name, route, route.connectTimeoutMs) };
    const jump = await this.acquire(route.via, auth);
    try {
      const sock = await forwardOut(jump.pooled.client, route.address.replace(/^\[|\]$/g, ''), route.port).catch((err: Error) => {
        throw new HostUnreachableError(`${route.name}: jump host ${route.via!.name} cannot reach ${route.address}:${route.port}: ${err.message}`);
      });
      return { route, key: await scanHostKey(route.name, { sock }, route.connectTimeoutMs) };
    } finally {
      jump.release();
    }
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    const all = (await Promise.all([...this.conns.values()].map((p) => p.catch(() => undefined)))).filter((p) => p !== undefined);
    this.conns.clear();
    // Hosts behind a jump first, then the jump hosts their streams ran through.
    for (const pooled of all.sort((a, b) => b.depth - a.depth)) {
      if (pooled.idle) clearTimeout(pooled.idle);
      pooled.client.end();
    }
  }

  private async using<T>(host: SshTarget, override: Partial<SshAuth> | undefined, fn: (p: Pooled) => Promise<T>): Promise<T> {
    const lease = await this.acquire(host, { ...this.auth, ...definedOnly(override) });
    try {
      return await fn(lease.pooled);
    } finally {
      lease.release();
    }
  }

  /** The pooled connection to a host (made if needed, through its jump hosts); busy until released. */
  private async acquire(host: SshTarget, auth: SshAuth): Promise<Lease> {
    const route = resolveRoute(host, auth);
    const key = this.keyOf(route, auth);
    let conn = this.conns.get(key);
    if (!conn) {
      conn = this.connect(route, auth, key);
      this.conns.set(key, conn);
      conn.catch(() => this.conns.delete(key));
    }
    const pooled = await conn;
    if (pooled.idle) clearTimeout(pooled.idle);
    pooled.busy++;
    let released = false;
    return {
      pooled,
      release: () => {
        if (released) return;
        released = true;
        pooled.busy--;
        if (pooled.busy === 0) {
          pooled.idle = setTimeout(() => {
            if (this.conns.get(key) === conn) this.conns.delete(key);
            pooled.client.end();
          }, this.idleMs);
          pooled.idle.unref();
        }
      },
    };
  }

  private keyOf(route: Route, auth: SshAuth): string {
    const own = `${route.user}@${route.address}:${route.port}|${route.knownHostsFile}|${route.identityFiles.join(',')}`;
    return route.via ? `${own}<${this.keyOf(resolveRoute(route.via, auth), auth)}` : own;
  }

  /** The connection's SFTP channel, opened once; a channel that failed or closed is opened again by the next transfer. */
  private sftp(pooled: Pooled): Promise<SFTPWrapper> {
    if (pooled.sftp) return pooled.sftp;
    const opened = new Promise<SFTPWrapper>((resolve, reject) =>
      pooled.client.sftp((err, sftp) => {
        if (err) return reject(err);
        // A protocol error closes the channel and fails its pending requests, which report it.
        sftp.on('error', () => undefined);
        sftp.on('close', () => pooled.sftp === opened && delete pooled.sftp);
        resolve(sftp);
      }),
    );
    opened.catch(() => pooled.sftp === opened && delete pooled.sftp);
    pooled.sftp = opened;
    return opened;
  }

  /**
   * One handshake, over a stream forwarded by the last jump host when the route has one. Every hop's host key is
   * checked against known_hosts like the target's; the jump connection stays busy while this one is open.
   */
  private async connect(route: Route, auth: SshAuth, key: string): Promise<Pooled> {
    let jump: Lease | undefined;
    let sock: Duplex | undefined;
    if (route.via) {
      jump = await this.acquire(route.via, auth);
      try {
        sock = await forwardOut(jump.pooled.client, route.address.replace(/^\[|\]$/g, ''), route.port);
      } catch (err) {
        jump.release();
        throw new HostUnreachableError(`${route.name}: jump host ${route.via.name} cannot reach ${route.address}:${route.port}: ${(err as Error).message}`);
      }
    }
    const depth = jump ? jump.pooled.depth + 1 : 0;
    const known = knownKeysFor(route.knownHostsFile, route.address, route.port);
    const accepted = known.filter((k) => !k.revoked);
    let keyProblem: 'unknown' | 'mismatch' | undefined;
    const through = route.via ? ` through ${route.via.name}` : '';
    const seconds = route.connectTimeoutMs / 1000;
    return new Promise<Pooled>((resolve, reject) => {
      const client = new Client();
      const socket = sock ?? tcpConnect({ host: route.address.replace(/^\[|\]$/g, ''), port: route.port });
      // How far the connection got: what a failure or a stall names.
      let phase: 'tcp' | 'banner' | 'kex' | 'login' = sock ? 'banner' : 'tcp';
      let heard = '';
      let settled = false;
      const failed = (err: Error & { level?: string }) => {
        if (settled) return;
        settled = true;
        client.destroy();
        socket.destroy();
        jump?.release();
        if (keyProblem) return reject(new HostKeyError(route.name, keyProblem, route.knownHostsFile));
        if (err.level === 'client-authentication') {
          return reject(new AuthenticationError(`${route.name}: login as ${route.user} refused for every key (${describeKeys(route, auth)}); add the public key to ~${route.user}/.ssh/authorized_keys on the host`));
        }
        const at = `${route.address}:${route.port}${through}`;
        const stalled = err.level === 'client-timeout' ? `no answer within ${seconds} s (the connect timeout)` : err.message;
        const said = heard.trim() ? ` (it sent ${JSON.stringify(heard.trim().split(/\r?\n/)[0]!.slice(0, 80))})` : '';
        const where = {
          tcp: `TCP connect to ${at}`,
          banner: `waiting for the SSH banner from ${at}: the port accepted the connection but ${heard ? `sent no SSH banner${said}` : 'sent nothing'}`,
          kex: `SSH key exchange with ${at}`,
          login: `login as ${route.user} on ${at}`,
        }[phase];
        reject(new HostUnreachableError(`${route.name}: cannot connect: ${where}: ${stalled}`));
      };
      // Every error is handled for the client's whole life: ssh2 can emit a second one after the first (a timeout,
      // then "Connection lost before handshake" when the socket closes).
      client.on('error', failed);
      client.on('close', () => failed(new Error(`the connection closed`)));
      socket.on('error', () => undefined);
      client.on('connect', () => (phase = 'banner'));
      client.on('handshake', () => (phase = 'login'));
      client.once('ready', () => {
        settled = true;
        // A dropped connection must not stay in the pool; the next step reconnects.
        const drop = () => {
          this.conns.delete(key);
          jump?.release();
        };
        client.on('error', drop);
        client.on('close', drop);
        this.handshakes.set(`${route.user}@${route.name}`, (this.handshakes.get(`${route.user}@${route.name}`) ?? 0) + 1);
        resolve({ client, key, busy: 0, depth });
      });
      client.connect({
        sock: socket,
        username: route.user,
        readyTimeout: route.connectTimeoutMs,
        keepaliveInterval: 15_000,
        // Offer only the key types known_hosts has for this host, as OpenSSH does.
        algorithms: accepted.length > 0 ? { serverHostKey: [...new Set(accepted.flatMap((k) => hostKeyAlgorithms(k.type)))] as never } : undefined,
        hostVerifier: (blob: Buffer) => {
          const b64 = blob.toString('base64');
          if (accepted.some((k) => k.key === b64)) return true;
          // Reported only once the server showed a key: a refused connection is not a key problem.
          keyProblem = known.length === 0 ? 'unknown' : 'mismatch';
          return false;
        },
        authHandler: authMethods(route, auth),
      });
      // What the server says before the key exchange (ssh2 has paused the socket, so this only listens): its banner
      // starts the key exchange, anything else is kept for the message.
      const listen = (data: Buffer) => {
        heard = (heard + data.toString('latin1')).slice(0, 512);
        if (/(^|\n)SSH-/.test(heard)) {
          phase = 'kex';
          heard = '';
          socket.off('data', listen);
        }
      };
      socket.on('data', listen);
    });
  }
}

/** A TCP stream the jump host opens to `address:port` (its sshd's direct-tcpip, as `ssh -J` uses). */
function forwardOut(jump: Client, address: string, port: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => jump.forwardOut('127.0.0.1', 0, address, port, (err, stream) => (err ? reject(err) : resolve(stream))));
}

/** The fields of a partial SshAuth that are set: what overrides the worker's defaults. */
export function definedOnly(o: Partial<SshAuth> | undefined): Partial<SshAuth> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<SshAuth>;
}

function hostKeyAlgorithms(type: string): string[] {
  return type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type];
}

function authMethods(route: Route, auth: SshAuth): AnyAuthMethod[] {
  const username = route.user;
  const methods: AnyAuthMethod[] = [];
  for (const file of route.identityFiles) {
    if (!existsSync(file)) continue;
    const parsed = utils.parseKey(readFileSync(file));
    // A passphrase-protected key is left to the agent, as `ssh -o BatchMode=yes` would.
    if (parsed instanceof Error) continue;
    methods.push({ type: 'publickey', username, key: readFileSync(file) });
  }
  if (auth.agentSocket && !(route.identitiesOnly && methods.length > 0)) methods.push({ type: 'agent', username, agent: auth.agentSocket });
  if (methods.length === 0) methods.push({ type: 'none', username });
  return methods;
}

const describeKeys = (route: Route, auth: SshAuth): string =>
  [...route.identityFiles.filter((f) => existsSync(f)), ...(auth.agentSocket ? ['the agent'] : [])].join(', ') || 'no key found';

/**
 * Writes a stream to a remote file with up to `inFlight` SFTP write requests outstanding, as OpenSSH's sftp does:
 * ssh2's own write stream waits for each chunk's reply before it sends the next, one round trip per chunk.
 */
function sftpWriter(sftp: SFTPWrapper, path: string, moved: () => void, inFlight = 16): Writable {
  let handle: Buffer | undefined;
  let position = 0;
  let pending = 0;
  let failed: Error | undefined;
  let waiting: (() => void) | undefined;
  const settled = () => {
    const w = waiting;
    waiting = undefined;
    w?.();
  };
  return new Writable({
    construct(done) {
      sftp.open(path, 'w', (err, h) => {
        handle = h;
        done(err ?? null);
      });
    },
    write(chunk: Buffer, _enc, done) {
      if (failed) return done(failed);
      pending++;
      sftp.write(handle!, chunk, 0, chunk.length, position, (err) => {
        moved();
        pending--;
        failed ??= err ?? undefined;
        settled();
      });
      position += chunk.length;
      // Backpressure: the next chunk is taken once fewer than `inFlight` writes are outstanding.
      if (pending < inFlight) return done();
      waiting = () => done(failed ?? null);
    },
    final(done) {
      const drain = () => {
        if (failed) return done(failed);
        if (pending > 0) return void (waiting = drain);
        sftp.close(handle!, (err) => done(err ?? null));
      };
      drain();
    },
    destroy(err, done) {
      // Not waited for: after a lost connection its reply never comes. The partial file is never used.
      if (handle && !this.writableFinished) sftp.close(handle, () => undefined);
      done(err);
    },
  });
}

function counter(hash: ReturnType<typeof createHash>, onBytes: ((n: number) => void) | undefined, moved: () => void): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      n += chunk.length;
      moved();
      onBytes?.(n);
      done(null, chunk);
    },
  });
}

/** A command as error messages show it. */
const shown = (command: string): string => `\`${command.length > 120 ? `${command.slice(0, 117)}...` : command}\``;

/** Both signals in one; undefined when there is none. */
function anySignal(...signals: Array<AbortSignal | undefined>): AbortSignal | undefined {
  const given = signals.filter((s): s is AbortSignal => s !== undefined);
  return given.length > 1 ? AbortSignal.any(given) : given[0];
}

/** `promise`, or the signal's reason as soon as it aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise((resolve, reject) => {
    const stop = () => reject(signal.reason as Error);
    signal.addEventListener('abort', stop, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}

/** What an aborted command rejects with: its timeout when the step ran out of time, else the cancellation itself. */
function abortReason(host: string, command: string, reason: unknown): Error {
  if (reason instanceof StepDeadline) return new CommandTimedOutError(host, reason.seconds, `${shown(command)} (the step's time limit); it was stopped on the host`);
  return reason instanceof Error ? reason : new Error(`${shown(command)} was cancelled`);
}

/** Runs `terminateSession` over the connection; settles within 5 s whatever happens (the host may be the problem). */
function terminate(client: Client, session: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 5_000);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    try {
      client.exec(toShell(terminateSession(session)), (err, stream) => {
        if (err) return done();
        stream.on('error', done).on('close', done).resume();
        stream.stderr.resume();
        stream.end();
      });
    } catch {
      done();
    }
  });
}

/**
 * Runs one command on the connection. The command first reports its session id (announceSession, stripped from
 * stderr); when the signal aborts, every process of that session is stopped on the host (closing the channel alone
 * leaves them running: sshd ignores a channel's signal requests) before the promise rejects.
 */
function exec(client: Client, host: string, command: string, opts: RunOptions): Promise<RemoteResult> {
  const signal = opts.signal;
  if (signal?.aborted) return Promise.reject(abortReason(host, command, signal.reason));
  return new Promise((resolve, reject) => {
    client.exec(announceSession(command), (err, stream: ClientChannel) => {
      if (err) return reject(new HostUnreachableError(`${host}: cannot start ${shown(command)}: ${err.message}`));
      let stdout = '';
      let stderr = '';
      /** stderr until the session line came. */
      let head: string | undefined = '';
      let session: number | undefined;
      let exitCode: number | undefined;
      let aborted = false;
      const onAbort = () => {
        aborted = true;
        const stopped = () => {
          stream.close();
          reject(abortReason(host, command, signal?.reason));
        };
        if (session === undefined) stopped();
        else void terminate(client, session).then(stopped);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const errOut = (text: string) => {
        stderr += text;
        opts.onOutput?.(text);
      };
      stream.on('error', (e: Error) => reject(new HostUnreachableError(`${host}: ${shown(command)}: ${e.message}`)));
      stream.on('data', (d: Buffer) => {
        stdout += d.toString();
        opts.onOutput?.(d.toString());
      });
      stream.stderr.on('data', (d: Buffer) => {
        if (head === undefined) return errOut(d.toString());
        head += d.toString();
        const line = SESSION_LINE.exec(head);
        if (!line && head.length < 4096) return;
        if (line) session = Number(line[1]);
        const rest = line ? head.replace(SESSION_LINE, '') : head;
        head = undefined;
        if (rest) errOut(rest);
      });
      stream.on('exit', (code: number | null) => (exitCode = code ?? 255));
      stream.on('close', () => {
        signal?.removeEventListener('abort', onAbort);
        if (head) errOut(head);
        if (aborted) return reject(abortReason(host, command, signal?.reason));
        // No exit status: the connection dropped mid-command, which a retry may fix.
        if (exitCode === undefined) reject(new HostUnreachableError(`${host}: the connection closed while running ${shown(command)}`));
        else resolve({ stdout, stderr, exitCode });
      });
      if (opts.stdin !== undefined) stream.end(opts.stdin);
      else stream.end();
    });
  });
}
