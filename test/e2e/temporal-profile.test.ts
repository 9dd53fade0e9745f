import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { exampleProject, testConfig, testEnv } from '../support/env';

const env = testEnv();
const root = join(__dirname, '..', '..');
let project: string;
let profileFile: string;
let worker: ChildProcess;

/** The test's environment without TEMPORAL_ADDRESS: only the Temporal CLI profile says where the server is. */
function profileEnv(profile: string): NodeJS.ProcessEnv {
  const rest = { ...process.env };
  delete rest.TEMPORAL_ADDRESS;
  delete rest.TEMPORAL_NAMESPACE;
  return { ...rest, TEMPORAL_CONFIG_FILE: profileFile, TEMPORAL_PROFILE: profile, FERRY_LOG_LEVEL: 'warn' };
}

before(() => {
  project = exampleProject(env, testConfig(env));
  profileFile = join(project, 'temporal.toml');
  writeFileSync(
    profileFile,
    `[profile.default]\naddress = "127.0.0.1:1"\n\n[profile.ferrytest]\naddress = "${env.temporalAddress}"\nnamespace = "default"\n`,
  );
  worker = spawn(join(root, 'bin', 'ferry'), ['worker'], { stdio: ['ignore', 'ignore', 'pipe'], env: profileEnv('ferrytest') });
  worker.stderr?.on('data', (d: Buffer) => process.stderr.write(`[worker] ${d.toString()}`));
});

after(async () => {
  worker.kill('SIGTERM');
  await new Promise((r) => worker.once('exit', r));
});

test('the CLI and the worker reach Temporal through a Temporal CLI profile alone (no TEMPORAL_ADDRESS)', () => {
  // The worker was started with the same profile; doctor sees it polling once it has connected.
  let r = spawnSync(join(root, 'bin', 'ferry'), ['doctor', 'production'], { cwd: project, encoding: 'utf8', env: profileEnv('ferrytest') });
  for (let i = 0; i < 20 && !/✓ temporal\s+worker polling/.test(r.stdout); i++) {
    spawnSync('sleep', ['1']);
    r = spawnSync(join(root, 'bin', 'ferry'), ['doctor', 'production'], { cwd: project, encoding: 'utf8', env: profileEnv('ferrytest') });
  }
  assert.match(r.stdout, new RegExp(`✓ temporal\\s+server reachable: ${env.temporalAddress.replaceAll('.', '\\.')} \\(namespace default, profile ferrytest of `));
  assert.match(r.stdout, /✓ temporal\s+worker polling "ferry"/);
});

test('another profile of the same file is honored too: its unreachable address is reported with the profile', () => {
  const r = spawnSync(join(root, 'bin', 'ferry'), ['doctor', 'production'], { cwd: project, encoding: 'utf8', env: profileEnv('default') });
  assert.equal(r.status, 1);
  assert.match(r.stdout, /✗ temporal\s+server reachable: cannot reach Temporal at 127\.0\.0\.1:1 \(profile default of .*temporal\.toml\)/);
});

test('an unknown profile is an input error that changes nothing', () => {
  const d = spawnSync(join(root, 'bin', 'ferry'), ['doctor', 'production'], { cwd: project, encoding: 'utf8', env: profileEnv('nope') });
  assert.equal(d.status, 1);
  assert.match(d.stdout, /✗ temporal\s+connection settings: .*profile nope.*'nope' not found/);
});
