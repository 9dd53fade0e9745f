import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { keepAlive } from '../../activities/heartbeat';
import { SshPool } from '../../activities/ssh/ssh-pool';
import type { SshTarget } from '../../core/domain/host';
import { sshTarget, testAuth, testEnv } from '../support/env';
import { bannerOnly, loginHangs, noHandshake, notSsh, silent, type Stalling } from '../support/stalling-hosts';

/**
 * Hosts that stall at each phase of an SSH session, made here: a port that never completes the TCP handshake, one that
 * accepts and stays silent, one that answers with something else than SSH, one that stops after its banner, a real
 * sshd whose login hangs, a command that never returns and an SFTP server that stops mid-upload. Each fails its host
 * with an error that names the host and the phase, within the time it is given, and the pool goes on serving others.
 */
const env = testEnv();
const CONNECT_S = 2;
const pool = new SshPool({ ...testAuth(env), connectTimeoutMs: CONNECT_S * 1000 }, 15_000, 2_000);
const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await pool.close();
});

const target = (port: number): SshTarget => ({ name: `stall-${port}`, address: '127.0.0.1', port, user: 'root' });

/** A stalling endpoint, closed after the tests. */
async function made<T extends Stalling>(endpoint: Promise<T>): Promise<T> {
  const e = await endpoint;
  cleanups.push(() => e.close());
  return e;
}

/** Fails with `pattern`, after no more than the time given plus a margin for a loaded machine. */
async function failsWithin(seconds: number, run: Promise<unknown>, expected: { name: string; message: RegExp }): Promise<void> {
  const started = Date.now();
  await assert.rejects(run, expected);
  const took = (Date.now() - started) / 1000;
  assert.ok(took < seconds + 5, `took ${took} s, the bound is ${seconds} s`);
}

/** The pool still serves a real host after the failure. */
const stillServes = async () => assert.equal((await pool.run(sshTarget(env, 'prod1'), ['echo', 'alive'])).stdout, 'alive\n');

/** Pids of processes whose command line is exactly `line` (the hosts share this machine's pid namespace). */
const running = (line: string): string => spawnSync('pgrep', ['-x', '-f', line], { encoding: 'utf8' }).stdout.trim();

test('a port that never completes the TCP handshake fails in the TCP phase within the connect timeout', async () => {
  const { port } = await made(noHandshake());
  await failsWithin(CONNECT_S, pool.run(target(port), 'true'), {
    name: 'HostUnreachableError',
    message: new RegExp(`^stall-${port}: cannot connect: TCP connect to 127\\.0\\.0\\.1:${port}: no answer within 2 s \\(the connect timeout\\)$`),
  });
  await stillServes();
});

test('a port that accepts and never speaks fails waiting for the SSH banner, and nothing crashes after it', async () => {
  const { port } = await made(silent());
  await failsWithin(CONNECT_S, pool.run(target(port), 'true'), {
    name: 'HostUnreachableError',
    message: new RegExp(`^stall-${port}: cannot connect: waiting for the SSH banner from 127\\.0\\.0\\.1:${port}: the port accepted the connection but sent nothing: no answer within 2 s`),
  });
  // ssh2 emits a second 'error' when the timed-out socket closes: it must find a handler (this process would die).
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await stillServes();
});

test('a port that answers with something else than SSH fails in the banner phase and shows what it sent', async () => {
  const { port } = await made(notSsh());
  await failsWithin(CONNECT_S, pool.run(target(port), 'true'), {
    name: 'HostUnreachableError',
    message: new RegExp(`^stall-${port}: cannot connect: waiting for the SSH banner from 127\\.0\\.0\\.1:${port}: the port accepted the connection but sent no SSH banner \\(it sent "HTTP/1\\.1 400 Bad Request"\\): no answer within 2 s`),
  });
});

test('a server that stops after its banner fails in the key exchange within the connect timeout', async () => {
  const { port } = await made(bannerOnly());
  await failsWithin(CONNECT_S, pool.run(target(port), 'true'), {
    name: 'HostUnreachableError',
    message: new RegExp(`^stall-${port}: cannot connect: SSH key exchange with 127\\.0\\.0\\.1:${port}: no answer within 2 s \\(the connect timeout\\)$`),
  });
  await stillServes();
});

test('a real sshd whose login hangs fails in the login phase within the connect timeout', async () => {
  const { port, knownHosts } = await made(loginHangs(env));
  const strict = new SshPool({ ...testAuth(env), knownHostsFile: knownHosts, connectTimeoutMs: CONNECT_S * 1000 });
  cleanups.push(() => strict.close());
  await failsWithin(CONNECT_S, strict.run(target(port), 'true'), {
    name: 'HostUnreachableError',
    message: new RegExp(`^stall-${port}: cannot connect: login as root on 127\\.0\\.0\\.1:${port}: no answer within 2 s \\(the connect timeout\\)$`),
  });
});

test('a command that never returns fails at the step time limit, naming the command, and is stopped on the host', async () => {
  const line = 'sleep 987001';
  const step = keepAlive({ hang: () => pool.run(sshTarget(env, 'prod1'), line) });
  await failsWithin(4, new MockActivityEnvironment({ startToCloseTimeoutMs: 4000 }).run(step.hang), {
    name: 'CommandTimedOutError',
    message: new RegExp(`^${env.hostRe('prod1')}: timed out after 4 s waiting for \`sleep 987001\` \\(the step's time limit\\); it was stopped on the host$`),
  });
  assert.equal(running(line), '', `${line} is still running on the host`);
  await stillServes();
});

test('a cancelled step stops its command on the host, also one under `timeout` in a compound line', async () => {
  const line = 'sleep 987002';
  const step = keepAlive({ hang: () => pool.run(sshTarget(env, 'prod1'), `cd /opt && timeout 600 ${line} && echo done`) });
  const activity = new MockActivityEnvironment({ startToCloseTimeoutMs: 60_000 });
  const run = activity.run(step.hang);
  for (let i = 0; i < 50 && running(line) === ''; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.notEqual(running(line), '', 'the command did not start');
  activity.cancel();
  await assert.rejects(run, { name: 'CancelledFailure' });
  assert.equal(running(line), '', `${line} is still running on the host`);
  await stillServes();
});

test('an upload whose SFTP server stops mid-transfer fails after 2 s without progress, and the next upload works', async () => {
  const host = sshTarget(env, 'prod2');
  const dir = mkdtempSync(join(tmpdir(), 'ferry-stall-'));
  const data = Buffer.alloc(64 * 1024 * 1024, 3);
  writeFileSync(join(dir, 'big'), data);
  let stopped: number | undefined;
  cleanups.push(() => stopped && spawnSync('kill', ['-CONT', String(stopped)]));
  const upload = pool.putFile(host, join(dir, 'big'), '/opt/stalled.partial', (sent) => {
    if (sent < 1024 * 1024 || stopped) return;
    stopped = sftpServerOf('prod2');
    process.kill(stopped, 'SIGSTOP');
  });
  await failsWithin(2, upload, {
    name: 'HostUnreachableError',
    message: new RegExp(`^${env.hostRe('prod2')}: the upload to /opt/stalled\\.partial stalled: nothing moved for 2 s; the connection was dropped$`),
  });
  assert.ok(stopped, 'the upload ended before its SFTP server was stopped');
  const small = join(dir, 'small');
  writeFileSync(small, 'after the stall\n');
  assert.equal(await pool.putFile(host, small, '/opt/after-stall'), createHash('sha256').update('after the stall\n').digest('hex'));
});

/** The SFTP server process (internal-sftp) of the newest session on a test host: a child of its sshd's session process. */
function sftpServerOf(host: string): number {
  const listener = readFileSync(join(env.state, 'hosts', host, 'sshd.pid'), 'utf8').trim();
  const table = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null);
  const sessions = new Set(table.filter((m) => m[2] === listener).map((m) => m[1]));
  const sftp = table.filter((m) => sessions.has(m[2]!) && m[3]!.includes('internal-sftp')).map((m) => Number(m[1]));
  assert.ok(sftp.length > 0, `no SFTP server runs on ${host}`);
  return Math.max(...sftp);
}
