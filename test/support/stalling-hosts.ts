import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import type { TestEnv } from './env';

/**
 * Real endpoints that stall at each phase of an SSH connection, on free ports of 127.0.0.1: the TCP handshake, the
 * banner, the key exchange and the login. `close()` ends one and what it holds.
 */
export interface Stalling {
  port: number;
  close(): Promise<void>;
}

/** A TCP server that does `onSocket` with each connection it accepts and never closes one itself. */
async function server(onSocket: (s: Socket) => void): Promise<Stalling> {
  const sockets = new Set<Socket>();
  const srv = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined).resume();
    onSocket(s);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => srv.close(() => resolve()));
    },
  };
}

/** Accepts and never says anything. It needs this process's event loop only to accept (the kernel completes TCP). */
export const silent = (): Promise<Stalling> => server(() => undefined);

/** Answers like an HTTP server, then stays open. */
export const notSsh = (): Promise<Stalling> => server((s) => s.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));

/** Sends a valid SSH banner, then nothing: the key exchange never starts. */
export const bannerOnly = (): Promise<Stalling> => server((s) => s.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'));

/**
 * A port whose TCP handshake never completes: a listener with a backlog of 0 that never accepts (python3), with one
 * connection already waiting in its queue, so that the kernel drops every further SYN.
 */
export async function noHandshake(): Promise<Stalling> {
  const py = spawn('python3', ['-c', 'import socket,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(3600)']);
  const port = Number(await new Promise<string>((resolve) => py.stdout.once('data', (d: Buffer) => resolve(d.toString()))));
  const fillers = [0, 1].map(() => connect(port, '127.0.0.1').on('error', () => undefined));
  await new Promise((resolve) => setTimeout(resolve, 300));
  return {
    port,
    close: async () => {
      for (const f of fillers) f.destroy();
      py.kill();
    },
  };
}

/**
 * A real sshd (the test host `host`'s config and host key) whose login hangs: keys are looked up by a command that
 * takes 20 s (think of a directory service that hangs; short, so that what a test leaves behind ends soon).
 * `knownHosts` is a copy of the test hosts' known_hosts with this port added under `host`'s key.
 */
export async function loginHangs(env: TestEnv, host = 'prod1'): Promise<Stalling & { knownHosts: string }> {
  const probe = await silent();
  const port = probe.port;
  await probe.close();
  const hostDir = join(env.state, 'hosts', host);
  const sshd = spawn('/usr/sbin/sshd', [
    // The host's config names its files as the host sees them (/etc/ferry-host/...); this sshd runs outside its namespace.
    '-D', '-f', join(hostDir, 'sshd_config'), '-p', String(port), '-h', join(hostDir, 'ssh_host_ed25519_key'),
    '-o', `PidFile=${join(hostDir, `login-hangs-${port}.pid`)}`,
    // The host's config listens on its own address and on 127.0.0.1, where the other stalls listen too.
    '-o', 'AuthorizedKeysFile=none', '-o', 'AuthorizedKeysCommand=/bin/sleep 20', '-o', 'AuthorizedKeysCommandUser=nobody',
  ], { stdio: 'ignore' });
  const lines = readFileSync(env.knownHosts, 'utf8');
  const key = lines.split('\n').find((l) => l.startsWith(`[${env.addr(host)}]:${env.port(host)} `))!.split(' ').slice(1).join(' ');
  const knownHosts = join(env.state, `known_hosts.login-hangs-${port}`);
  writeFileSync(knownHosts, `${lines.trimEnd()}\n[127.0.0.1]:${port} ${key}\n`);
  for (let i = 0; ; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      }).on('error', () => resolve(false));
    });
    if (open) break;
    if (i > 100) throw new Error(`the sshd whose login hangs does not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    port,
    knownHosts,
    close: async () => {
      if (sshd.exitCode !== null) return;
      const exited = new Promise((resolve) => sshd.once('exit', resolve));
      sshd.kill();
      await exited;
    },
  };
}
