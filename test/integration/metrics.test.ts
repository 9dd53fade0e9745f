import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { ferry, spawnWorker, stopWorker } from '../support/cli';
import { exampleProject, testConfig, testEnv } from '../support/env';

/** `ferry worker` with FERRY_METRICS_ADDRESS serves the SDK's and Ferry's metrics; read after a real deploy. */
const env = testEnv();
let worker: ChildProcess;
let project: string;
let address = '';

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

before(async () => {
  project = exampleProject(env, testConfig(env, `PRODUCTION_HOSTS="${env.host('other')}"\n`));
  address = `127.0.0.1:${await freePort()}`;
  const saved = process.env.FERRY_METRICS_ADDRESS;
  process.env.FERRY_METRICS_ADDRESS = address;
  worker = spawnWorker();
  if (saved === undefined) delete process.env.FERRY_METRICS_ADDRESS;
  else process.env.FERRY_METRICS_ADDRESS = saved;
  const stored = (JSON.parse(ferry(project, 'show', 'releases', '--json').out || '[]') as Array<{ version: string }>).map((r) => r.version);
  if (!stored.includes('0.1.0')) {
    const built = ferry(project, 'build', 'release', '--tag=0.1.0');
    assert.equal(built.code, 0, built.err);
  }
});

after(async () => {
  await stopWorker(worker);
});

/** The value of the first sample of `name` whose labels include every one of `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) return Number(m[3]);
  }
  return undefined;
}

test('after a deploy, the worker metrics endpoint has the SDK metrics and Ferry deploys, host steps, durations, hosts in flight and bytes', async () => {
  const deploy = ferry(project, 'deploy', 'release', 'to', 'production', '--version=0.1.0');
  assert.equal(deploy.code, 0, deploy.err);
  const text = await (await fetch(`http://${address}/metrics`)).text();
  assert.ok((sample(text, 'ferry_deploys_total', { workflow: 'deployRelease', outcome: 'ok' }) ?? 0) >= 1, text);
  for (const step of ['uploadRelease', 'unpackRelease', 'configureNode']) {
    assert.ok((sample(text, 'ferry_host_steps_total', { step, outcome: 'ok' }) ?? 0) >= 1, `${step} counted`);
    assert.ok((sample(text, 'ferry_host_step_duration_seconds_count', { step }) ?? 0) >= 1, `${step} timed`);
  }
  assert.equal(sample(text, 'ferry_hosts_in_flight'), 0);
  assert.ok(sample(text, 'ferry_bytes_transferred_total') !== undefined || /already on the host/.test(deploy.out), 'bytes transferred');
  // The SDK's own: task slots, and the workflow task that completed the deploy.
  assert.ok(sample(text, 'temporal_worker_task_slots_available') !== undefined, 'SDK slot metrics');
  assert.ok((sample(text, 'temporal_workflow_completed_total') ?? 0) >= 1, 'SDK workflow completions');
});
