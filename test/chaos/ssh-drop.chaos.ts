import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadDeliveryConfig } from '../../client/config-file';
import { deployRequest } from '../../client/requests';
import type { DeliveryConfig } from '../../core/config/schema';
import type { DeployStatus } from '../../core/domain/requests';
import { exampleProject, testConfig, testEnv } from '../support/env';
import { ferry, halfExtracted, sleep, spawnWorker, stopWorker, summary, temporal } from './support';

/**
 * SSH connections dropped mid-upload, CHAOS_DROPS times (default 3): the per-connection sshd processes (in the host's
 * mount namespace, all but its listening sshd) are killed while `<tarball>.partial` is being written. The upload is retried, the
 * sha256 on the host matches the store's manifest, and nothing is ever extracted from a partial file.
 */
const env = testEnv();
const DROPS = Number(process.env.CHAOS_DROPS ?? 3);
const HOST = 'prod1';
const ID = 'ferry/hello/production';
let project: string;
let config: DeliveryConfig;
let worker: ChildProcess;

before(async () => {
  project = exampleProject(env, testConfig(env));
  config = await loadDeliveryConfig({ cwd: project });
  worker = spawnWorker();
  const stored = (JSON.parse(ferry(project, 'show', 'releases', '--json').out || '[]') as Array<{ version: string }>).map((r) => r.version);
  if (!stored.includes('0.1.0')) assert.equal(ferry(project, 'build', 'release', '--tag=0.1.0').code, 0);
});

after(async () => {
  await stopWorker(worker);
});

const release = (host: string) => join(env.hostRoot(host), 'ferry', 'hello', 'releases', '0.1.0');

/**
 * The processes serving the host's connections: everything in the host's own mount namespace but its listening sshd.
 * Killing only the listener's children (the privileged monitors) leaves the session processes holding the sockets.
 */
function connectionPids(host: string): number[] {
  const listener = readFileSync(join(env.state, 'hosts', host, 'sshd.pid'), 'utf8').trim();
  const ns = readlinkSync(`/proc/${listener}/ns/mnt`);
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && p !== listener)
    .filter((p) => {
      try {
        return readlinkSync(`/proc/${p}/ns/mnt`) === ns && readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('sshd');
      } catch {
        return false;
      }
    })
    .map(Number);
}

test(`SSH connections dropped mid-upload ${DROPS} times: the upload is retried, the checksum holds, nothing is extracted from a partial file`, async () => {
  const storeTarball = readFileSync(join(env.state, 'store', 'hello_0.1.0.release.tar.gz'));
  const sha = createHash('sha256').update(storeTarball).digest('hex');
  let passed = 0;
  let lost = 0;
  let hit = 0;
  const problems: string[] = [];
  for (let d = 0; d < DROPS; d++) {
    rmSync(join(env.hostRoot(HOST), 'ferry'), { recursive: true, force: true });
    const req = deployRequest(config, 'production', { version: '0.1.0', host: [`${env.host(HOST)}`] });
    const start = temporal(env, 'workflow', 'start', '--type', 'deployRelease', '--task-queue', 'ferry', '--workflow-id', ID, '--input', JSON.stringify(req));
    assert.equal(start.code, 0, start.err);
    // Wait for the partial file to appear and grow, then drop every connection of the host.
    const partial = join(release(HOST), 'hello.tar.gz.partial');
    let dropped = false;
    for (let i = 0; i < 3000 && !dropped; i++) {
      if (existsSync(partial) && statSync(partial, { throwIfNoEntry: false })?.size) {
        for (const pid of connectionPids(HOST)) process.kill(pid, 'SIGKILL');
        dropped = true;
      } else if (existsSync(join(release(HOST), 'hello.tar.gz'))) break;
      else await sleep(5);
    }
    if (dropped) hit++;
    const result = temporal(env, 'workflow', 'result', '--workflow-id', ID, '--output', 'json');
    const status = result.code === 0 ? (JSON.parse(result.out) as { result?: DeployStatus }).result : undefined;
    const onHost = existsSync(join(release(HOST), 'hello.tar.gz')) ? createHash('sha256').update(readFileSync(join(release(HOST), 'hello.tar.gz'))).digest('hex') : 'missing';
    const broken = halfExtracted(env, HOST);
    const ok = status?.phase === 'done' && onHost === sha && broken.length === 0;
    if (ok) passed++;
    else {
      lost++;
      problems.push(`drop ${d + 1} (${dropped ? 'mid-upload' : 'upload finished first'}): phase ${status?.phase ?? result.err.trim()}, sha256 ${onHost}, ${broken.join('; ')}`);
    }
  }
  summary(`ssh drop mid-upload (${hit} of ${DROPS} hit an upload in flight)`, DROPS, passed, lost);
  assert.deepEqual(problems, []);
  assert.ok(hit > 0, 'no drop hit an upload in flight');
});
