import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ferry, productionOn010, root, spawnWorker, stopWorker } from '../support/cli';
import { exampleProject, testConfig, testEnv } from '../support/env';
import { bannerOnly, loginHangs, noHandshake, notSsh, silent as silentEndpoint, type Stalling } from '../support/stalling-hosts';

/**
 * The `ferry` CLI against a real worker process, with a host that accepts TCP and never speaks SSH among the real
 * ones: the deploy and the rollout end within their time with that host failed, the worker stays up and serves the next
 * step. Then every command's exit paths (done, waiting, failed, refused): the README's exit code, and never a stack
 * trace on stderr.
 */
const env = testEnv();
let worker: ChildProcess;
let plain: string;
let silent: string;
let silentHost: string;
const endpoints: Stalling[] = [];

/** No Node.js stack trace: no `    at f (file:line:col)` line, no `Error:` line. */
function clean(r: { code: number | null; out: string; err: string }, code: number, what: string) {
  assert.equal(r.code, code, `${what}: exit ${r.code}\n${r.out}\n${r.err}`);
  assert.doesNotMatch(r.err, /^\s+at .+:\d+:\d+\)?$/m, `${what}: a stack trace on stderr:\n${r.err}`);
  assert.doesNotMatch(r.err, /^(\w*Error|Uncaught)\b/m, `${what}: an uncaught error on stderr:\n${r.err}`);
  return r;
}

const cli = (project: string, code: number, ...args: string[]) => clean(ferry(project, ...args), code, `ferry ${args.join(' ')}`);

/** `ferry ...` in the background (ferry() blocks this process); resolves with what it printed and its exit code. */
function cliAsync(project: string, ...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const p = spawn(join(root, 'bin', 'ferry'), args, { cwd: project });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => p.on('close', (code) => resolve({ code, out, err })));
}

const alive = () => assert.ok(worker.exitCode === null && worker.signalCode === null, 'the worker process died');
const seconds = (since: number) => (Date.now() - since) / 1000;

before(async () => {
  const quiet = await silentEndpoint();
  endpoints.push(quiet);
  silentHost = `127.0.0.1:${quiet.port}`;
  plain = exampleProject(env, testConfig(env, 'APPROVERS="alice"\n'));
  // bash reads the config: the silent host joins the three real ones; connecting gets 2 s.
  silent = exampleProject(env, testConfig(env, `PRODUCTION_HOSTS="$PRODUCTION_HOSTS ${silentHost}"\nSSH_CONNECT_TIMEOUT=2\n`));
  worker = spawnWorker('warn');
  productionOn010(plain);
});

after(async () => {
  ferry(plain, 'stop', 'production');
  await stopWorker(worker);
  for (const e of endpoints) await e.close();
});

test('a deploy with a silent host returns within its timeout: that host failed, the others done, the worker alive', () => {
  const started = Date.now();
  const r = cli(silent, 1, 'deploy', 'release', 'to', 'production', '--version=0.2.0', '--start-deploy');
  // Five tries of 2 s each, with 1 + 2 + 4 + 8 s between them, and the worker's own work.
  assert.ok(seconds(started) < 90, `took ${seconds(started)} s`);
  assert.match(r.out, /hello 0\.2\.0 → production: 1 of 4 hosts failed/);
  const silentLine = r.out.split('\n').find((l) => l.includes(`✗ ${silentHost}`));
  assert.match(silentLine ?? '', new RegExp(`failed .*${silentHost}: cannot connect: waiting for the SSH banner from ${silentHost}: the port accepted the connection but sent nothing: no answer within 2 s \\(the connect timeout\\)`));
  for (const h of ['prod1', 'prod2', 'prod3']) assert.match(r.out, new RegExp(`✓ ${env.hostRe(h)} +done +0\\.2\\.0`));
  alive();
  const next = cli(plain, 0, '--json', 'version', 'production');
  assert.deepEqual((JSON.parse(next.out) as { hosts: Array<{ version: string }> }).hosts.map((h) => h.version), ['0.2.0', '0.2.0', '0.2.0']);
});

test('hosts that stall at each phase of connecting fail with the phase, within the connect timeout; the worker serves on', async () => {
  const login = await loginHangs(env);
  const stalls = { tcp: await noHandshake(), banner: await notSsh(), kex: await bannerOnly(), login };
  endpoints.push(...Object.values(stalls));
  const at = (e: Stalling) => `127.0.0.1:${e.port}`;
  const project = exampleProject(env, testConfig(env, `PRODUCTION_HOSTS="${Object.values(stalls).map(at).join(' ')}"\nSSH_CONNECT_TIMEOUT=2\nSSH_KNOWN_HOSTS="${login.knownHosts}"\n`));
  const started = Date.now();
  // In the background: the endpoints answer from this process, whose event loop ferry() would block.
  const r = clean(await cliAsync(project, 'ping', 'production'), 1, 'ferry ping production');
  assert.ok(seconds(started) < 90, `took ${seconds(started)} s`);
  const line = (e: Stalling) => r.out.split('\n').find((l) => l.includes(`✗ ${at(e)}`)) ?? r.out;
  assert.match(line(stalls.tcp), /cannot connect: TCP connect to 127\.0\.0\.\d+:\d+: no answer within 2 s \(the connect timeout\)$/);
  assert.match(line(stalls.banner), /cannot connect: waiting for the SSH banner from .*: the port accepted the connection but sent no SSH banner \(it sent "HTTP\/1\.1 400 Bad Request"\): no answer within 2 s/);
  assert.match(line(stalls.kex), /cannot connect: SSH key exchange with 127\.0\.0\.\d+:\d+: no answer within 2 s/);
  assert.match(line(stalls.login), /cannot connect: login as root on 127\.0\.0\.\d+:\d+: no answer within 2 s/);
  alive();
  cli(plain, 0, 'ping', 'production');
});

test('a rollout with a silent host within its failure budget (--max-failures=1) ends done, the worker alive', () => {
  const r = cli(silent, 0, 'rollout', 'production', '--version=0.1.0', '--max-failures=1');
  assert.match(r.out, /hello 0\.1\.0 rollout: done/);
  assert.match(r.out, new RegExp(`✗ ${silentHost} +batch 1 +failed +.*no answer within 2 s`));
  alive();
  const next = cli(plain, 0, '--json', 'version', 'production');
  assert.deepEqual((JSON.parse(next.out) as { hosts: Array<{ version: string }> }).hosts.map((h) => h.version), ['0.1.0', '0.1.0', '0.1.0']);
});

test('a rollout that halts for an operator exits 0 with what to run next and no stack trace; resume --skip ends it', () => {
  const r = cli(silent, 0, 'rollout', 'production', '--version=0.2.0', '--batch=1', '--on-failure=halt');
  assert.match(r.out, new RegExp(`waiting for an operator since .*: ${silentHost} failed: .*no answer within 2 s.*\\n  decide with \`ferry resume production --retry\\|--skip\\|--rollback\\|--abort \\[--host=H\\]\``));
  cli(silent, 0, 'resume', 'production', '--skip');
  const end = cli(silent, 0, 'status', 'production', '--watch');
  assert.match(end.out, /rollout: done/);
  alive();
});

test('every command ends with the README exit code and without a stack trace: done, waiting, failed, refused', async () => {
  // done
  cli(plain, 0, 'ping', 'production');
  cli(plain, 0, 'show', 'releases');
  cli(plain, 0, 'status', 'production');
  // refused: bad input, nothing started
  cli(plain, 2, 'ping', 'staging');
  cli(plain, 2, 'deploy', 'release', 'to', 'production');
  cli(plain, 2, 'rollout', 'production');
  cli(plain, 2, 'build', 'nonsense');
  cli(plain, 2, 'approve', 'production', '--by=alice');
  cli(plain, 2, 'resume', 'production', '--retry');
  cli(plain, 2, 'pause', 'production');
  cli(plain, 2, 'rollback', 'production', '--config=missing');
  // waiting for an approval, then approved and done
  const gated = cli(plain, 0, 'rollout', 'production', '--version=0.2.0', '--canary=1', '--require-approval');
  assert.match(gated.out, /waiting for approval \(production: after canary\)/);
  cli(plain, 2, 'deploy', 'release', 'to', 'production', '--version=0.1.0');
  cli(plain, 0, 'approve', 'production', '--by=alice');
  assert.match(cli(plain, 0, 'status', 'production', '--watch').out, /rollout: done/);
  // failed: a rollout followed with --wait that an operator aborts, and the status of what it left
  const following = cliAsync(silent, 'rollout', 'production', '--version=0.1.0', '--batch=1', '--on-failure=halt', '--wait');
  for (let i = 0; i < 600; i++) {
    const s = ferry(silent, '--json', 'status', 'production');
    if (s.code === 0 && (JSON.parse(s.out) as { phase?: string }).phase === 'waiting-for-operator') break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  cli(silent, 0, 'resume', 'production', '--abort');
  const aborted = clean(await following, 1, 'ferry rollout --wait, aborted');
  assert.match(aborted.out, /failed: /);
  cli(silent, 1, 'status', 'production');
  alive();
});
