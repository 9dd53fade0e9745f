import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { announceSession, SESSION_LINE, terminateSession } from '../../../core/commands/session';
import { toShell } from '../../../core/commands/shell';

test('announceSession prints the session line first, then runs the line unchanged', () => {
  assert.equal(announceSession("cd /opt && echo 'a b'"), "echo ferry-session $$ >&2; cd /opt && echo 'a b'");
  const out = spawnSync('setsid', ['sh', '-c', announceSession('echo out; echo err >&2; exit 3')], { encoding: 'utf8' });
  assert.equal(out.status, 3);
  assert.equal(out.stdout, 'out\n');
  assert.equal(out.stderr.replace(SESSION_LINE, ''), 'err\n');
  assert.equal(Number(SESSION_LINE.exec(out.stderr)?.[1]), out.pid);
});

test('terminateSession is one constant script with the session id as its argument', () => {
  assert.match(toShell(terminateSession(4242)), /^sh -c '.*' terminate 4242$/s);
});

test('terminateSession stops every process of the session and leaves other sessions alone', async () => {
  const leader = spawn('setsid', ['sh', '-c', 'sleep 987101 & sleep 987102; wait'], { stdio: 'ignore' });
  const other = spawn('setsid', ['sleep', '987103'], { stdio: 'ignore' });
  const pids = (line: string) => spawnSync('pgrep', ['-x', '-f', line], { encoding: 'utf8' }).stdout.trim();
  for (let i = 0; i < 50 && (pids('sleep 987101') === '' || pids('sleep 987102') === ''); i++) await new Promise((r) => setTimeout(r, 50));
  const session = Number(execFileSync('ps', ['-o', 'sid=', '-p', pids('sleep 987102')], { encoding: 'utf8' }).trim());
  const [program, ...args] = terminateSession(session);
  execFileSync(program!, args);
  assert.equal(pids('sleep 987101'), '');
  assert.equal(pids('sleep 987102'), '');
  assert.notEqual(pids('sleep 987103'), '');
  other.kill();
  leader.kill();
});
