import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { NodeCommandResult } from '../../core/domain/requests';
import { exampleProject, testConfig, testEnv } from '../support/env';
import { ferry, root, spawnWorker, stopWorker, summary } from './support';

/**
 * Hosts that fail as a whole: one host down for a whole rollout or deploy (its sshd stopped), and one whose disk fills
 * during the upload (a tiny tmpfs mounted, inside that host's own mount namespace, where the new release goes).
 */
const env = testEnv();
const name = (host: string) => `${env.host(host)}`;
let worker: ChildProcess;
let project: string;

const hosts = (cmd: 'start' | 'stop', host: string) =>
  execFileSync(join(root, 'scripts', 'local-hosts.sh'), ['--hosts', `${host}:${env.host(host)}`, cmd], { encoding: 'utf8' });

before(() => {
  project = exampleProject(env, testConfig(env, `PRODUCTION_HOSTS="${name('prod1')} ${name('prod2')} ${name('other')}"\n`));
  worker = spawnWorker();
  const stored = (JSON.parse(ferry(project, 'show', 'releases', '--json').out || '[]') as Array<{ version: string }>).map((r) => r.version);
  for (const tag of ['0.1.0', '0.2.0'].filter((v) => !stored.includes(v))) assert.equal(ferry(project, 'build', 'release', `--tag=${tag}`).code, 0);
});

after(async () => {
  ferry(project, 'stop', 'production');
  await stopWorker(worker);
});

test('one host down for a whole rollout and a whole deploy: the policy applies, the others finish, the report names the host', () => {
  const down = name('other');
  const checks: Array<[string, boolean]> = [];
  hosts('stop', 'other');
  try {
    // max-failures=1 tolerates it: the rollout ends done, the host failed and named.
    const tolerated = ferry(project, '--json', 'rollout', 'production', '--version=0.1.0', '--max-failures=1', '--no-start-deploy');
    const last = JSON.parse(tolerated.out.trim().split('\n').pop() || '{}') as { phase?: string; stages?: Array<{ hosts: Record<string, { outcome?: string; error?: string }> }> };
    const byHost = last.stages?.[0]?.hosts ?? {};
    checks.push([
      `rollout --max-failures=1 ends done, ${down} failed with "cannot connect", the others ok (got ${tolerated.code}: ${JSON.stringify(byHost)} ${tolerated.err})`,
      last.phase === 'done' && byHost[down]?.outcome === 'failed' && /cannot connect/.test(byHost[down]?.error ?? '') && byHost[name('prod1')]?.outcome === 'ok' && byHost[name('prod2')]?.outcome === 'ok',
    ]);
    // the default (no failure tolerated) stops for an operator, naming the host; abort it
    const strict = ferry(project, 'rollout', 'production', '--version=0.2.0', '--batch=3', '--no-start-deploy');
    checks.push([`rollout without tolerance waits for an operator naming ${down} (got ${strict.code}: ${strict.out})`, strict.code === 0 && new RegExp(`waiting for an operator since .*${down.replace(/\./g, '\\.')} failed: .*cannot connect`).test(strict.out)]);
    const abort = ferry(project, 'resume', 'production', '--abort', '--by=chaos');
    checks.push([`ferry resume --abort ends it (got ${abort.code}: ${abort.err})`, abort.code === 0]);
    ferry(project, 'status', 'production', '--watch');
    // a plain deploy: exit 1, the others done, the failure report names the host
    const deploy = ferry(project, 'deploy', 'release', 'to', 'production', '--version=0.1.0');
    checks.push([`deploy exits 1 naming ${down} (got ${deploy.code}: ${deploy.out} ${deploy.err})`, deploy.code === 1 && (deploy.out + deploy.err).includes(down)]);
  } finally {
    hosts('start', 'other');
  }
  const failed = checks.filter(([, ok]) => !ok).map(([what]) => what);
  summary('one host down', checks.length, checks.length - failed.length, 0);
  assert.deepEqual(failed, []);
});

test('a host whose disk fills during the upload: a clear error, the previous release still runs', () => {
  const host = 'prod1';
  const only = `--host=${name(host)}`;
  const first = ferry(project, 'deploy', 'release', 'to', 'production', '--version=0.1.0', '--start-deploy', only);
  assert.equal(first.code, 0, first.out + first.err);
  // A 1 MiB tmpfs where 0.2.0's tarball (about 3.6 MB) lands, mounted in the host's own mount namespace only.
  const sshd = readFileSync(join(env.state, 'hosts', host, 'sshd.pid'), 'utf8').trim();
  const dir = '/opt/ferry/hello/releases/0.2.0';
  const ns = (script: string) => execFileSync('nsenter', ['-t', sshd, '-m', 'sh', '-c', script, 'ns', dir], { encoding: 'utf8' });
  ns('rm -rf "$1" && mkdir -p "$1" && mount -t tmpfs -o size=1m ferry-chaos-full "$1"');
  let r: ReturnType<typeof ferry>;
  try {
    r = ferry(project, 'deploy', 'release', 'to', 'production', '--version=0.2.0', '--start-deploy', only);
  } finally {
    ns('umount "$1" && rm -rf "$1"');
  }
  const version = JSON.parse(ferry(project, '--json', 'version', 'production', only).out) as NodeCommandResult;
  const checks: Array<[string, boolean]> = [
    [`the deploy fails (exit 1) with a clear error naming the disk (got ${r.code}: ${r.out} ${r.err})`, r.code === 1 && /no space left|disk (is )?full|ENOSPC/i.test(r.out + r.err)],
    [`the node still runs 0.1.0 (got ${JSON.stringify(version.hosts)})`, version.hosts[0]?.running === true && version.hosts[0]?.version === '0.1.0'],
  ];
  const failed = checks.filter(([, ok]) => !ok).map(([what]) => what);
  summary('disk full during upload', checks.length, checks.length - failed.length, 0);
  assert.deepEqual(failed, []);
});
