// Ferry's upgrade builder (activities/erlang/upgrade.escript) on real mix releases: the mix example
// (scripts/example-mix-repo.sh) built here with this machine's Elixir, as the build host builds it, then the relup and
// its plan: Elixir's GenServer and Supervisor read as OTP's, a hand-written appup kept, a changed runtime.exs reported,
// Elixir's own applications changing ask for a restart, and a release without sasl refused. No hosts or Temporal.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import type { AppupUsed } from '../../core/domain/release';
import type { UpgradePlan } from '../../core/domain/upgrade-plan';
import { project } from '../support/project';

const root = path.join(__dirname, '..', '..');
const escript = path.join(root, 'activities', 'erlang', 'upgrade.escript');
let repo: string;
const releases: Record<string, string> = {};

/** Builds the example's release of `tag` (MIX_ENV=prod, as Ferry's build does) into a directory of its own. */
function build(tag: string): string {
  execFileSync('git', ['-C', repo, 'checkout', '-q', '--force', tag]);
  // The app compiles afresh for each tag: a checkout within the same second as the last build would look up to date
  // to mix (it compares mtimes in seconds) and keep the previous tag's .app and beams.
  rmSync(path.join(repo, '_build', 'prod', 'lib', 'hello_mix'), { recursive: true, force: true });
  const out = path.join(project(), 'rel');
  execFileSync('mix', ['release', '--overwrite', '--path', out], { cwd: repo, env: { ...process.env, MIX_ENV: 'prod' }, stdio: 'pipe' });
  return out;
}

/** A copy of a built release (the builder writes appups and the relup into the new one). */
const copy = (dir: string): string => {
  const to = path.join(project(), 'rel');
  cpSync(dir, to, { recursive: true });
  return to;
};

/** Runs the relup mode on copies of two releases; returns the exit status, the plan and appups, and stderr. */
function relup(from: string, to: string, oldDir = copy(releases[from]!), newDir = copy(releases[to]!)) {
  const r = spawnSync('escript', [escript, 'relup', 'hello_mix', from, oldDir, to, newDir], { encoding: 'utf8' });
  const out = r.status === 0 ? (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { plan: UpgradePlan; appups: AppupUsed[] }) : undefined;
  return { status: r.status, stderr: r.stderr, plan: out?.plan, appups: out?.appups ?? [], newDir };
}

before(() => {
  repo = path.join(project(), 'repo');
  execFileSync('bash', [path.join(root, 'scripts', 'example-mix-repo.sh'), repo], { stdio: 'pipe' });
  for (const tag of ['0.2.0', '0.3.0', '0.4.0']) releases[tag] = build(tag);
});

test('0.3.0 -> 0.4.0: the Elixir supervisor is updated and its new child started; runtime.exs changes are a warning', () => {
  const r = relup('0.3.0', '0.4.0');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.appups.map((a) => [a.app, a.source]), [['hello_mix', 'generated']]);
  assert.match(
    r.appups[0]!.text,
    /\[\{add_module,'Elixir\.HelloMix\.Ticker'\},\s+\{update,'Elixir\.HelloMix\.Supervisor',supervisor\},\s+\{apply,\{supervisor,restart_child,\s+\['Elixir\.HelloMix\.Supervisor',\s*'Elixir\.HelloMix\.Ticker'\]\}\}\]/,
  );
  assert.match(readFileSync(path.join(r.newDir, 'releases', '0.4.0', 'relup'), 'utf8'), /\{apply,\{supervisor,restart_child,/);
  assert.deepEqual(
    r.plan!.risks.map((k) => [k.kind, k.severity]),
    [['config', 'warning']],
    'no risk for the state (Elixir state is not compared), none for mix\'s config_provider_init',
  );
  assert.match(r.plan!.risks[0]!.message, /config\/runtime\.exs changes/);
});

test('0.2.0 -> 0.3.0: the hand-written appup in ebin/ is used; the changed GenServer is one it names', () => {
  const r = relup('0.2.0', '0.3.0');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.appups.map((a) => [a.app, a.source]), [['hello_mix', 'application']]);
  assert.match(r.appups[0]!.text, /^%% Written by hand/);
  assert.deepEqual(r.plan!.risks, []);
});

test("Elixir's own applications changing version ask for a restart (risk elixir)", () => {
  const newDir = copy(releases['0.4.0']!);
  const [elixir] = readFileSync(path.join(newDir, 'releases', '0.4.0', 'hello_mix.rel'), 'utf8').match(/\{elixir,"[^"]+"/)!;
  const vsn = elixir.slice('{elixir,"'.length, -1);
  const next = `${vsn}.1`;
  renameSync(path.join(newDir, 'lib', `elixir-${vsn}`), path.join(newDir, 'lib', `elixir-${next}`));
  for (const file of [path.join(newDir, 'lib', `elixir-${next}`, 'ebin', 'elixir.app'), path.join(newDir, 'releases', '0.4.0', 'hello_mix.rel')]) {
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace(`{vsn,"${vsn}"}`, `{vsn,"${next}"}`).replace(`{elixir,"${vsn}"`, `{elixir,"${next}"`));
  }
  const r = relup('0.3.0', '0.4.0', copy(releases['0.3.0']!), newDir);
  assert.equal(r.status, 0, r.stderr);
  const risk = r.plan!.risks.find((k) => k.kind === 'elixir');
  assert.equal(risk?.severity, 'restart');
  assert.equal(risk?.app, 'elixir');
  assert.match(risk!.message, new RegExp(`elixir ${vsn.replaceAll('.', '\\.')} -> ${next.replaceAll('.', '\\.')}: Elixir's own applications are not hot-upgraded`));
});

test('a mix release without sasl is refused (exit 3), saying to add it to extra_applications', () => {
  const oldDir = copy(releases['0.3.0']!);
  const rel = path.join(oldDir, 'releases', '0.3.0', 'hello_mix.rel');
  writeFileSync(rel, readFileSync(rel, 'utf8').replace(/\s*\{sasl,"[^"]+",permanent\},/, ''));
  const r = relup('0.3.0', '0.4.0', oldDir);
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /the old release 0\.3\.0 has no sasl application: .*add :sasl to extra_applications in mix\.exs/);
});
