// Hot upgrades of a mix release, as a user meets them: the mix example (scripts/example-mix-repo.sh) on three hosts,
// each with its own runtime configuration (HELLO_MIX_REGION in <release root>/host.env, read by config/runtime.exs),
// goes 0.1.0 -> 0.2.0 -> 0.3.0 (the counter's state changes; a hand-written appup) -> 0.4.0 (a new supervised child, a
// new runtime.exs value) by hot upgrade (deploy upgrade --run-migrations, upgrade, rollout --upgrade): same OS pid, the counter kept, the per-host value still in force. Then 0.5.0,
// whose code_change/3 raises, leaves every node on 0.4.0, reported per host.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SshPool } from '../../activities/ssh/ssh-pool';
import * as node from '../../core/commands/node';
import { releaseLayout } from '../../core/domain/host';
import type { NodeCommandResult } from '../../core/domain/requests';
import type { StoredRelease } from '../../core/domain/release';
import { ferry, spawnWorker, stopWorker } from '../support/cli';
import { exampleProject, hostTarget, testAuth, testEnv } from '../support/env';

const env = testEnv();
const PROD = ['prod1', 'prod2', 'prod3'];
const DELIVER_TO = '/opt/ferry-mixup';
const store = join(env.state, 'store-mixup');
const layout = releaseLayout(DELIVER_TO, 'hello_mix');
const addr = (h: string) => `127.0.0.1:${env.port(h)}`;
const region = (h: string) => `region-${h}`;
let project: string;
let worker: ChildProcess;
let ssh: SshPool;
const pids: Record<string, string> = {};
const counts: Record<string, number> = {};

/** Evaluates one Erlang expression on the host's running node (through Ferry's control script, as its checks do). */
const onNode = async (h: string, expression: string) => (await ssh.run(hostTarget(env, h, DELIVER_TO), node.evaluateErlang(layout, expression))).stdout.trim();
const pidOf = async (h: string) => (await ssh.run(hostTarget(env, h, DELIVER_TO), node.osPid(layout))).stdout.trim();
const runningVersions = () => (JSON.parse(ferry(project, '--json', 'version', 'production').out) as NodeCommandResult).hosts.map((h) => h.version);
const env_ = (h: string, key: string) => onNode(h, `application:get_env(hello_mix, ${key}).`);
const esc = (s: string) => s.replaceAll('.', '\\.');

before(() => {
  rmSync(store, { recursive: true, force: true });
  project = exampleProject(
    env,
    `APP="hello_mix"
BUILD_HOST="127.0.0.1:${env.port('build')}"
BUILD_USER="root"
BUILD_AT="/opt/ferry-build/hello_mix_up"
PRODUCTION_HOSTS="${PROD.map(addr).join(' ')}"
PRODUCTION_USER="root"
DELIVER_TO="${DELIVER_TO}"
NODE_NAME='mixup_{port}@127.0.0.1'
RELEASE_STORE="${store}"
SSH_KNOWN_HOSTS="${env.knownHosts}"
SSH_IDENTITY_FILE="${env.identity}"
`,
    env.exampleMixRepo,
  );
  // Each host's own runtime configuration, read by config/runtime.exs at boot (rel/env.sh.eex sources host.env).
  for (const h of PROD) {
    const dir = join(env.hostPath(h, DELIVER_TO), 'hello_mix');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'host.env'), `export HELLO_MIX_REGION=${region(h)}\n`);
  }
  worker = spawnWorker();
  ssh = new SshPool(testAuth(env));
});

after(async () => {
  if (project) ferry(project, 'stop', 'production');
  await ssh?.close();
  if (worker) await stopWorker(worker);
});

test('0.1.0 starts on three hosts, each with its own runtime configuration; the counter is bumped', async () => {
  const built = ferry(project, 'build', 'release', '--tag=0.1.0');
  assert.equal(built.code, 0, built.out + built.err);
  const r = ferry(project, 'deploy', 'release', 'to', 'production', '--version=0.1.0', '--start-deploy');
  assert.equal(r.code, 0, r.out + r.err);
  assert.deepEqual(runningVersions(), ['0.1.0', '0.1.0', '0.1.0']);
  for (const [i, h] of PROD.entries()) {
    for (let n = 0; n <= i; n++) await onNode(h, "'Elixir.HelloMix.Counter':bump().");
    counts[h] = i + 1;
    assert.equal(await onNode(h, "'Elixir.HelloMix.Counter':count()."), String(i + 1));
    assert.equal(await env_(h, 'region'), `{ok,<<"${region(h)}">>}`);
    pids[h] = await pidOf(h);
    assert.match(pids[h]!, /^\d+$/);
  }
});

/** Every node runs `to` with the pid it had, its counter and its region. */
async function checkHot(to: string): Promise<void> {
  assert.deepEqual(runningVersions(), [to, to, to]);
  for (const h of PROD) {
    assert.equal(await pidOf(h), pids[h], `${h}: same OS pid`);
    assert.equal(await onNode(h, "'Elixir.HelloMix.Counter':count()."), String(counts[h]), `${h}: the counter survived`);
    assert.equal(await env_(h, 'region'), `{ok,<<"${region(h)}">>}`, `${h}: its runtime configuration is still in force`);
  }
}

test('0.1.0 -> 0.2.0: ferry build upgrade stores the upgrade with its plan; ferry deploy upgrade --run-migrations hot-upgrades every node, then migrates', async () => {
  const built = ferry(project, 'build', 'upgrade', '--from=0.1.0', '--to=0.2.0');
  assert.equal(built.code, 0, built.out + built.err);
  assert.match(built.out, /built upgrade hello_mix 0\.1\.0 -> 0\.2\.0 \(appups: 1 generated by Ferry\)/);
  const plan = ferry(project, 'show', 'upgrade-plan', '--from=0.1.0', '--to=0.2.0');
  assert.equal(plan.code, 0, plan.out + plan.err);
  assert.match(plan.out, /upgrade plan hello_mix 0\.1\.0 -> 0\.2\.0: hot upgrade/);
  assert.match(plan.out, /hello_mix\s+0\.1\.0\s+0\.2\.0\s+upgraded\s+generated/);
  const releases = JSON.parse(ferry(project, 'show', 'releases', '--json').out) as StoredRelease[];
  assert.deepEqual(releases.map((r) => `${r.version} ${r.type}`), ['0.1.0 release', '0.2.0 upgrade']);
  // prod3 as a node started without Ferry's releases/RELEASES (by an older Ferry, or by hand): the upgrade writes it.
  rmSync(join(env.hostPath('prod3', DELIVER_TO), 'hello_mix', 'releases', 'RELEASES'));
  // --run-migrations: 0.2.0's migration 3 runs once, after every node is upgraded, with the new code.
  const r = ferry(project, 'deploy', 'upgrade', 'to', 'production', '--run-migrations');
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /hello_mix 0\.1\.0 → 0\.2\.0 → production: 3 hosts ok/);
  assert.match(r.out, /up 3 add_audit_log/);
  for (const h of PROD) assert.match(r.out, new RegExp(`✓ ${esc(addr(h))}\\s+done\\s+0\\.2\\.0 \\(pid ${pids[h]}\\)`));
  await checkHot('0.2.0');
  assert.equal(await onNode('prod1', "'Elixir.HelloMix':greeting()."), `<<"Hello again from Ferry's mix app 0.2!">>`);
  // The release handler's history: 0.2.0 permanent, 0.1.0 kept for a downgrade.
  assert.match(await onNode('prod1', '[{V, S} || {_, V, _, S} <- release_handler:which_releases()].'), /\[\{"0\.2\.0",permanent\},\{"0\.1\.0",old\}\]/);
});

test('0.2.0 -> 0.3.0 by ferry upgrade production: the hand-written appup is used; code_change/3 converts the state', async () => {
  const r = ferry(project, 'upgrade', 'production', '--tag=0.3.0');
  assert.equal(r.code, 0, r.out + r.err);
  await checkHot('0.3.0');
  for (const h of PROD) assert.equal(await onNode(h, "sys:get_state('Elixir.HelloMix.Counter')."), `#{count => ${counts[h]},since => <<"upgraded">>}`);
  const appups = ferry(project, 'show', 'appups', '0.3.0');
  assert.match(appups.out, /hello_mix 0\.2\.0 -> 0\.3\.0 \(the application's own ebin\/hello_mix\.appup\):\n%% Written by hand/);
});

test('0.3.0 -> 0.4.0 by ferry rollout --upgrade: the new child runs; the new runtime.exs value is applied; each host keeps its own', async () => {
  const built = ferry(project, 'build', 'upgrade', '--from=0.3.0', '--to=0.4.0');
  assert.equal(built.code, 0, built.out + built.err);
  assert.match(ferry(project, 'show', 'upgrade-plan', '--from=0.3.0', '--to=0.4.0').out, /config\/runtime\.exs changes/);
  const r = ferry(project, 'rollout', 'production', '--version=0.4.0', '--upgrade');
  assert.equal(r.code, 0, r.out + r.err);
  await checkHot('0.4.0');
  for (const h of PROD) {
    assert.match(await onNode(h, "is_pid(whereis('Elixir.HelloMix.Ticker'))."), /^true$/, `${h}: HelloMix.Ticker runs`);
    assert.equal(await env_(h, 'tier'), '{ok,<<"gold">>}', `${h}: the new runtime.exs value`);
  }
});

test("the control script's downgrade (what Ferry runs after a failed check) takes every node to 0.3.0 in place; 0.4.0 again after", async () => {
  for (const h of PROD) {
    const r = await ssh.run(hostTarget(env, h, DELIVER_TO), node.downgrade(layout, '0.3.0'));
    assert.match(r.stdout, /^0\.3\.0 installed and made permanent$/m);
  }
  await checkHot('0.3.0');
  for (const h of PROD) {
    assert.equal(await onNode(h, "whereis('Elixir.HelloMix.Ticker')."), 'undefined', `${h}: HelloMix.Ticker stopped`);
    assert.equal(await env_(h, 'tier'), 'undefined', `${h}: 0.3.0's runtime.exs sets no tier`);
  }
  const again = ferry(project, 'deploy', 'upgrade', 'to', 'production', '--version=0.4.0');
  assert.equal(again.code, 0, again.out + again.err);
  await checkHot('0.4.0');
  for (const h of PROD) assert.match(await onNode(h, "is_pid(whereis('Elixir.HelloMix.Ticker'))."), /^true$/);
});

test('0.4.0 -> 0.5.0 with a code_change/3 that raises: every node is on 0.4.0 again, each failure reported', async () => {
  const built = ferry(project, 'build', 'upgrade', '--from=0.4.0', '--to=0.5.0');
  assert.equal(built.code, 0, built.out + built.err);
  const r = ferry(project, 'deploy', 'upgrade', 'to', 'production', '--version=0.5.0', '--hot-only');
  assert.equal(r.code, 1, r.out + r.err);
  for (const h of PROD) assert.match(r.out + r.err, new RegExp(`${esc(addr(h))}[^\\n]*upgrade 0\\.4\\.0 -> 0\\.5\\.0 failed`), `${h}: reported`);
  assert.match(r.out + r.err, /code_change_failed/);
  assert.deepEqual(runningVersions(), ['0.4.0', '0.4.0', '0.4.0']);
  for (const h of PROD) {
    assert.equal(await pidOf(h), pids[h], `${h}: the node restarted in place, not a new OS process`);
    assert.equal(await env_(h, 'region'), `{ok,<<"${region(h)}">>}`);
    assert.match(await onNode(h, '[{V, S} || {_, V, _, S} <- release_handler:which_releases(), S =/= old].'), /\{"0\.4\.0",permanent\}/);
  }
});
