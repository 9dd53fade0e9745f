import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { StoredRelease } from '../../core/domain/release';
import type { NodeCommandResult } from '../../core/domain/requests';
import type { UpgradePlan } from '../../core/domain/upgrade-plan';
import { ferry, productionOn010, spawnWorker, starts, stopWorker } from '../support/cli';
import { exampleProject, testConfig, testEnv } from '../support/env';

/** `ferry deploy upgrade` when the upgrade's plan says a hot upgrade is unsafe: --hot-only refuses, the default restarts. */
const env = testEnv();
const HOSTS = ['prod1', 'prod2', 'prod3'];
const manifest = join(env.state, 'store', 'hello_0.2.0.upgrade.tar.gz.json');
let project: string;
let worker: ChildProcess;
let original: string | undefined;

before(() => {
  project = exampleProject(env, testConfig(env));
  worker = spawnWorker('warn');
});

after(async () => {
  if (original !== undefined) writeFileSync(manifest, original);
  ferry(project, 'stop', 'production');
  await stopWorker(worker);
});

const versions = () => (JSON.parse(ferry(project, '--json', 'version', 'production').out) as NodeCommandResult).hosts.map((h) => h.version);

test('setup: production runs 0.1.0; the stored upgrade to 0.2.0 carries a plan with a risk that needs a restart', () => {
  productionOn010(project);
  const built = ferry(project, 'build', 'upgrade', '--with=0.1.0', '--to=0.2.0');
  assert.equal(built.code, 0, built.out + built.err);
  // The plan is written here by hand: computing it on the build host is another part of Ferry's build.
  original = readFileSync(manifest, 'utf8');
  const plan: UpgradePlan = {
    from: '0.1.0',
    to: '0.2.0',
    erts: { from: '13.1.5', to: '13.1.5' },
    apps: [
      { app: 'hello', from: '0.1.0', to: '0.2.0', change: 'upgraded', appup: 'generated', instructions: '[{load_module,hello}]' },
      { app: 'sasl', from: '4.2', to: '4.2', change: 'unchanged' },
    ],
    risks: [{ kind: 'supervisor', severity: 'restart', app: 'hello', module: 'hello_sup', message: 'hello_sup: child hello_worker moved from hello_sup to hello_pool_sup' }],
  };
  writeFileSync(manifest, JSON.stringify({ ...(JSON.parse(original) as StoredRelease), plan }));
  assert.deepEqual(versions(), ['0.1.0', '0.1.0', '0.1.0']);
});

test('ferry deploy upgrade --hot-only refuses the unsafe upgrade before touching a node, naming the risk', () => {
  const startsBefore = HOSTS.map((h) => starts(env, h));
  const r = ferry(project, 'deploy', 'upgrade', 'to', 'production', '--version=0.2.0', '--hot-only');
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.out, /hello 0\.1\.0 → 0\.2\.0 → production: refused, no host touched/);
  assert.match(r.out, /hello_sup: child hello_worker moved from hello_sup to hello_pool_sup; refused \(UPGRADE_FALLBACK=refuse or --hot-only\): no node was touched/);
  assert.deepEqual(versions(), ['0.1.0', '0.1.0', '0.1.0']);
  assert.deepEqual(HOSTS.map((h) => starts(env, h)), startsBefore);
});

test('ferry deploy upgrade (UPGRADE_FALLBACK=restart by default) shows the plan and restarts every node onto 0.2.0, saying why', () => {
  const startsBefore = HOSTS.map((h) => starts(env, h));
  const r = ferry(project, 'deploy', 'upgrade', 'to', 'production', '--version=0.2.0');
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /preflight 0\.1\.0 → 0\.2\.0: rolling restart onto the new release \(UPGRADE_FALLBACK=restart\)/);
  assert.match(r.out, /\n {2}hello\s+0\.1\.0 → 0\.2\.0 {2}\(appup: generated\)\n/);
  assert.match(r.out, /\n {2}! restart supervisor hello\/hello_sup: hello_sup: child hello_worker moved from hello_sup to hello_pool_sup\n/);
  assert.match(r.out, /hello 0\.1\.0 → 0\.2\.0 → production: 3 hosts ok\n {2}rolling restart onto the new release: a hot upgrade 0\.1\.0 -> 0\.2\.0 is unsafe: supervisor \(hello\): .*; UPGRADE_FALLBACK=restart: a rolling restart onto 0\.2\.0 instead/);
  for (const host of HOSTS) {
    assert.match(r.out, new RegExp(`✓ ${env.hostRe(host)}\\s+done\\s+0\\.2\\.0.*\\n\\s+restarted onto 0\\.2\\.0 instead of a hot upgrade \\(see the preflight\\)`));
  }
  assert.deepEqual(versions(), ['0.2.0', '0.2.0', '0.2.0']);
  assert.deepEqual(HOSTS.map((h) => starts(env, h)), startsBefore.map((n) => n + 1), 'each node started once more: a restart, not a hot upgrade');
});
