import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { finished, pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { Client, utils, type AnyAuthMethod, type ClientChannel, type SFTPWrapper } from 'ssh2';
import type { Argv } from '../../core/commands/shell';
import { toShell } from '../../core/commands/shell';
import type { SshTarget } from '../../core/domain/host';
import {
  AuthenticationError,
  HostKeyError,
  HostUnreachableError,
  RemoteCommandError,
} from '../../core/domain/errors';
import { knownKeysFor } from './known-hosts';

/** Where the worker finds keys and known hosts; a project may override both (paths, never key material). */
export interface SshAuth {
  knownHostsFile: string;
  identityFiles: string[];
  /** SSH_AUTH_SOCK of the worker, when it has an agent. */
  agentSocket?: string;
  connectTimeoutMs: number;
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
  };
}

interface Pooled {
  client: Client;
  sftp?: Promise<SFTPWrapper>;
  idle?: NodeJS.Timeout;
  busy: number;
}

/**
 * SSH connections cached per host (one handshake per host, reused by every step while it is busy or
 * idle for less than `idleMs`), each verified against known_hosts with strict checking. The only code that imports ssh2.
 */
export class SshPool {
  private readonly conns = new Map<string, Promise<Pooled>>();
  /** Handshakes made, per `user@host:port`: what the benchmarks count. */
  readonly handshakes = new Map<string, number>();

  constructor(
    private readonly auth: SshAuth,
    private readonly idleMs = 15_000,
  ) {}

  /** Runs the command through the login shell; rejects with RemoteCommandError unless the exit code is 0. */
  async run(host: SshTarget, command: Argv | string, opts: RunOptions = {}, auth?: Partial<SshAuth>): Promise<RemoteResult> {
    const line = typeof command === 'string' ? command : toShell(command);
    return this.using(host, auth, async ({ client }) => {
      const result = await exec(client, line, opts);
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
    return this.using(host, auth, async (pooled) => {
      const sftp = await this.sftp(pooled);
      const hash = createHash('sha256');
      await pipeline(source, counter(hash, onBytes), sftp.createWriteStream(remotePath));
      return hash.digest('hex');
    });
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
    return this.using(host, auth, async (pooled) => {
      const sftp = await this.sftp(pooled);
      const hash = createHash('sha256');
      await pipeline(sftp.createReadStream(remotePath), counter(hash, onBytes), createWriteStream(localPath));
      return hash.digest('hex');
    });
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    const all = [...this.conns.values()];
    this.conns.clear();
    for (const p of all) {
      const pooled = await p.catch(() => undefined);
      if (pooled?.idle) clearTimeout(pooled.idle);
      pooled?.client.end();
    }
  }

  private async using<T>(host: SshTarget, override: Partial<SshAuth> | undefined, fn: (p: Pooled) => Promise<T>): Promise<T> {
    const auth = { ...this.auth, ...definedOnly(override) };
    const key = `${host.user}@${host.address}:${host.port}|${auth.knownHostsFile}|${auth.identityFiles.join(',')}`;
    let conn = this.conns.get(key);
    if (!conn) {
      conn = this.connect(host, auth, key);
      this.conns.set(key, conn);
      conn.catch(() => this.conns.delete(key));
    }
    const pooled = await conn;
    if (pooled.idle) clearTimeout(pooled.idle);
    pooled.busy++;
    try {
      return await fn(pooled);
    } finally {
      pooled.busy--;
      if (pooled.busy === 0) {
        pooled.idle = setTimeout(() => {
          this.conns.delete(key);
          pooled.client.end();
        }, this.idleMs);
        pooled.idle.unref();
      }
    }
  }

  private sftp(pooled: Pooled): Promise<SFTPWrapper> {
    pooled.sftp ??= new Promise((resolve, reject) =>
      pooled.client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))),
    );
    return pooled.sftp;
  }

  private connect(host: SshTarget, auth: SshAuth, key: string): Promise<Pooled> {
    const known = knownKeysFor(auth.knownHostsFile, host.address, host.port);
    const accepted = known.filter((k) => !k.revoked);
    let keyProblem: 'unknown' | 'mismatch' | undefined;
    return new Promise<Pooled>((resolve, reject) => {
      const client = new Client();
      const fail = (err: Error & { level?: string }) => {
        client.end();
        if (keyProblem) reject(new HostKeyError(host.name, keyProblem, auth.knownHostsFile));
        else if (err.level === 'client-authentication')
          reject(new AuthenticationError(`${host.name}: login as ${host.user} refused for every key (${describeKeys(auth)}); add the public key to ~${host.user}/.ssh/authorized_keys on the host`));
        else reject(new HostUnreachableError(`${host.name}: cannot connect: ${err.message}`));
      };
      client.once('error', fail);
      client.once('ready', () => {
        client.off('error', fail);
        // A dropped connection must not stay in the pool; the next step reconnects.
        client.on('error', () => this.conns.delete(key));
        client.on('close', () => this.conns.delete(key));
        this.handshakes.set(`${host.user}@${host.name}`, (this.handshakes.get(`${host.user}@${host.name}`) ?? 0) + 1);
        resolve({ client, busy: 0 });
      });
      client.connect({
        host: host.address.replace(/^\[|\]$/g, ''),
        port: host.port,
        username: host.user,
        readyTimeout: auth.connectTimeoutMs,
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
        authHandler: authMethods(host.user, auth),
      });
    });
  }
}

function definedOnly(o: Partial<SshAuth> | undefined): Partial<SshAuth> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<SshAuth>;
}

function hostKeyAlgorithms(type: string): string[] {
  return type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type];
}

function authMethods(username: string, auth: SshAuth): AnyAuthMethod[] {
  const methods: AnyAuthMethod[] = [];
  for (const file of auth.identityFiles) {
    if (!existsSync(file)) continue;
    const parsed = utils.parseKey(readFileSync(file));
    // A passphrase-protected key is left to the agent, as `ssh -o BatchMode=yes` would.
    if (parsed instanceof Error) continue;
    methods.push({ type: 'publickey', username, key: readFileSync(file) });
  }
  if (auth.agentSocket) methods.push({ type: 'agent', username, agent: auth.agentSocket });
  if (methods.length === 0) methods.push({ type: 'none', username });
  return methods;
}

const describeKeys = (auth: SshAuth): string =>
  [...auth.identityFiles.filter((f) => existsSync(f)), ...(auth.agentSocket ? ['the agent'] : [])].join(', ') || 'no key found';

function counter(hash: ReturnType<typeof createHash>, onBytes?: (n: number) => void): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      n += chunk.length;
      onBytes?.(n);
      done(null, chunk);
    },
  });
}

function exec(client: Client, command: string, opts: RunOptions): Promise<RemoteResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream: ClientChannel) => {
      if (err) return reject(new HostUnreachableError(`cannot start a command: ${err.message}`));
      let stdout = '';
      let stderr = '';
      let exitCode: number | undefined;
      const onAbort = () => {
        stream.signal('TERM');
        stream.close();
        reject(opts.signal?.reason ?? new Error('aborted'));
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      stream.on('data', (d: Buffer) => {
        stdout += d.toString();
        opts.onOutput?.(d.toString());
      });
      stream.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        opts.onOutput?.(d.toString());
      });
      stream.on('exit', (code: number | null) => (exitCode = code ?? 255));
      stream.on('close', () => {
        opts.signal?.removeEventListener('abort', onAbort);
        // No exit status: the connection dropped mid-command, which a retry may fix.
        if (exitCode === undefined) reject(new HostUnreachableError(`connection closed while running \`${command.slice(0, 80)}\``));
        else resolve({ stdout, stderr, exitCode });
      });
      if (opts.stdin !== undefined) stream.end(opts.stdin);
      else stream.end();
    });
  });
}
