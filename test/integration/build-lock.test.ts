import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { loadDeliveryConfig } from '../../client/config-file';
import { buildRequest } from '../../client/requests';
import type { DeliveryConfig } from '../../core/config/schema';
import type { BuildResult } from '../../core/domain/requests';
import { exampleProject, startWorker, testConfig, testEnv } from '../support/env';

const env = testEnv();
let w: Awaited<ReturnType<typeof startWorker>>;
let config: DeliveryConfig;

before(async () => {
  w = await startWorker(env, 'it-build-lock');
  // Its own BUILD_AT, fresh: both builds below share it.
  config = await loadDeliveryConfig({ cwd: exampleProject(env, testConfig(env, `BUILD_AT="/opt/ferry-build/lock-${process.pid}"\n`)) });
});
after(async () => {
  await w?.stop();
});

test('two builds of different revisions on one BUILD_AT at the same time each store the release of its own revision', async () => {
  const build = (tag: string) =>
    w.client.workflow.execute('buildRelease', { taskQueue: w.taskQueue, workflowId: `it-build-lock-${tag}`, args: [buildRequest(config, { tag })] }) as Promise<BuildResult>;
  const [a, b] = await Promise.all([build('0.1.0'), build('0.2.0')]);
  for (const [{ release }, tag] of [[a, '0.1.0'], [b, '0.2.0']] as const) {
    assert.equal(release.version, tag);
    const files = execFileSync('tar', ['tzf', release.storeKey], { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.match(files, new RegExp(`(^|\\n)(\\./)?releases/${tag.replace(/\./g, '\\.')}/hello\\.rel\\n`), `${tag}'s tarball holds its own release`);
    assert.match(files, new RegExp(`(^|\\n)(\\./)?lib/hello-${tag.replace(/\./g, '\\.')}/ebin/hello\\.app\\n`), `${tag}'s tarball holds its own hello app`);
    const revision = execFileSync('git', ['-C', config.projectDir, 'rev-parse', `${tag}^{commit}`], { encoding: 'utf8' }).trim();
    assert.equal(release.gitRevision, revision);
  }
});
