import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { SshPool } from '../../activities/ssh/ssh-pool';
import { getRelease, newestUpgrade, s3SettingsFromEnv, storeFactory, type ReleaseStore } from '../../activities/store';
import { ChecksumMismatchError } from '../../core/domain/errors';
import { releaseFileName } from '../../core/domain/release';
import type { BuildResult, DeployRequest, DeployStatus, PruneResult } from '../../core/domain/requests';
import type { StoreDescriptor } from '../../core/domain/store';
import { loadDeliveryConfig } from '../../client/config-file';
import { buildRequest } from '../../client/requests';
import { exampleProject, hostTarget, sshTarget, startWorker, testAuth, testConfig, testEnv } from '../support/env';

const env = testEnv();
const run = Date.now().toString(36);
const bucket = process.env.FERRY_S3_BUCKET ?? 'ferry-test';
const s3 = s3SettingsFromEnv(process.env);

/** One descriptor per kind: a local directory, a directory on the "other" test host, a prefix in the test bucket. */
const kinds: Record<StoreDescriptor['kind'], StoreDescriptor> = {
  local: { kind: 'local', dir: join(env.state, `store-local-${run}`) },
  remote: { kind: 'remote', host: sshTarget(env, 'other'), path: `/opt/ferry-store-${run}` },
  s3: { kind: 's3', bucket, prefix: `it/${run}` },
};

/** Flips bytes in the middle of a stored artifact, behind the store's back. */
async function corrupt(kind: StoreDescriptor['kind'], store: ReleaseStore, version: string): Promise<void> {
  const ref = { app: 'hello', version };
  if (kind === 's3') {
    const manifest = (await store.head(ref))!;
    const bytes = Buffer.from(await (await store.openRead(ref)).toArray().then((c) => Buffer.concat(c as Buffer[])));
    bytes[bytes.length >> 1]! ^= 0xff;
    const client = new S3Client({ region: s3.region, endpoint: s3.endpoint, forcePathStyle: true, credentials: s3.credentials });
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: manifest.storeKey.replace(`s3://${bucket}/`, ''), Body: bytes }));
    client.destroy();
    return;
  }
  const file =
    kind === 'local'
      ? join((kinds.local as { dir: string }).dir, releaseFileName(ref))
      : join(env.hostRoot('other'), (kinds.remote as { path: string }).path.replace(/^\/opt\//, ''), releaseFileName(ref));
  const bytes = readFileSync(file);
  bytes[bytes.length >> 1]! ^= 0xff;
  writeFileSync(file, bytes);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let pool: SshPool;
let stores: ReturnType<typeof storeFactory>;

before(() => {
  pool = new SshPool(testAuth(env));
  stores = storeFactory({ ssh: pool, s3 });
});
after(async () => {
  await pool.close();
});

for (const [kind, descriptor] of Object.entries(kinds) as Array<[StoreDescriptor['kind'], StoreDescriptor]>) {
  describe(`${kind} store`, () => {
    const dir = mkdtempSync(join(env.state, 'artifacts-'));
    // 9 MiB: more than one 8 MiB part, so the S3 store uploads it in parts.
    const big = randomBytes(9 * 1024 * 1024);
    writeFileSync(join(dir, 'big.tar.gz'), big);
    writeFileSync(join(dir, 'small.tar.gz'), 'small');

    test('put streams a file in with its manifest; head, list (version order) and openRead give it back', async () => {
      const store = stores(descriptor);
      const builtAt = new Date().toISOString();
      const put = await store.put(join(dir, 'big.tar.gz'), { app: 'hello', version: '0.10.0', type: 'release', sha256: sha256(big), builtAt, gitRevision: 'a'.repeat(40) });
      assert.equal(put.size, big.length);
      assert.match(put.storeKey, /hello_0\.10\.0\.release\.tar\.gz$/);
      await store.put(join(dir, 'small.tar.gz'), { app: 'hello', version: '0.9.0', type: 'release', sha256: sha256(Buffer.from('small')), builtAt });
      assert.deepEqual(await store.head({ app: 'hello', version: '0.10.0' }), put);
      assert.equal(await store.head({ app: 'hello', version: '1.0.0' }), undefined);
      assert.deepEqual((await store.list()).map((r) => r.version), ['0.9.0', '0.10.0']);
      const back = Buffer.concat((await (await store.openRead(put)).toArray()) as Buffer[]);
      assert.equal(sha256(back), put.sha256);
    });

    test('put refuses bytes whose sha256 is not the expected one and stores nothing', async () => {
      const store = stores(descriptor);
      await assert.rejects(
        store.put(join(dir, 'small.tar.gz'), { app: 'hello', version: '0.8.0', type: 'release', sha256: 'f'.repeat(64), builtAt: new Date().toISOString() }),
        (e: unknown) => e instanceof ChecksumMismatchError && /sha256 is [0-9a-f]{64}, expected f{64}; nothing was stored/.test(e.message),
      );
      assert.equal(await store.head({ app: 'hello', version: '0.8.0' }), undefined);
      assert.deepEqual((await store.list()).map((r) => r.version), ['0.9.0', '0.10.0']);
    });

    test('delete removes manifest and artifact; it is repeatable', async () => {
      const store = stores(descriptor);
      await store.delete({ app: 'hello', version: '0.9.0' });
      await store.delete({ app: 'hello', version: '0.9.0' });
      assert.deepEqual((await store.list()).map((r) => r.version), ['0.10.0']);
    });

    test('an upgrade beside the release of its version: typed head and get, newestUpgrade, putText for a generated appup', async () => {
      const store = stores(descriptor);
      const builtAt = new Date().toISOString();
      const appup = { app: 'hello', source: 'generated' as const, text: '{"0.10.0",[{"0.9.0",[]}],[{"0.9.0",[]}]}.\n' };
      const up = await store.put(join(dir, 'small.tar.gz'), {
        app: 'hello', version: '0.10.0', type: 'upgrade', fromVersion: '0.9.0', appup, sha256: sha256(Buffer.from('small')), builtAt,
      });
      assert.match(up.storeKey, /hello_0\.10\.0\.upgrade\.tar\.gz$/);
      assert.equal((await store.head({ app: 'hello', version: '0.10.0' }))?.type, 'release');
      assert.deepEqual(await store.head({ app: 'hello', version: '0.10.0', type: 'upgrade' }), up);
      assert.deepEqual((await store.list()).map((r) => `${r.version} ${r.type}`), ['0.10.0 release', '0.10.0 upgrade']);
      assert.deepEqual(await newestUpgrade(store, 'hello'), up);
      await assert.rejects(getRelease(store, { app: 'hello', version: '0.11.0', type: 'upgrade' }), /hello 0\.11\.0 \(upgrade\) is not in the release store .*\(it has 0\.10\.0\)/);
      const where = await store.putText(`${releaseFileName(up)}.appup`, appup.text);
      assert.match(where, /hello_0\.10\.0\.upgrade\.tar\.gz\.appup$/);
      assert.deepEqual((await store.list()).map((r) => `${r.version} ${r.type}`), ['0.10.0 release', '0.10.0 upgrade'], 'the appup is not an artifact');
      await store.delete(up);
      assert.equal(await newestUpgrade(store, 'hello'), undefined);
    });
  });
}

describe('build -> store -> deploy with each store kind', () => {
  let w: Awaited<ReturnType<typeof startWorker>>;
  let project: string;

  before(async () => {
    w = await startWorker(env, 'it-stores');
    project = exampleProject(env, testConfig(env));
  });
  after(async () => {
    await w?.stop();
  });

  const deployRequest = (store: StoreDescriptor, deployTo: string, hosts = ['prod1', 'prod2']): DeployRequest => ({
    app: 'hello',
    environment: 'production',
    version: '0.1.0',
    hosts: hosts.map((h) => hostTarget(env, h, deployTo)),
    store,
    startDeploy: false,
    ssh: { knownHostsFile: env.knownHosts, identityFile: env.identity },
  });

  for (const [kind, descriptor] of Object.entries(kinds) as Array<[StoreDescriptor['kind'], StoreDescriptor]>) {
    const deployTo = `/opt/ferry-${kind}-${run}`;
    const onHost = (host: string, path: string) => join(env.hostRoot(host), deployTo.replace(/^\/opt\//, ''), 'hello', path);

    test(`${kind}: buildRelease stores 0.1.0, deployRelease unpacks it on two hosts ${kind === 's3' ? 'fetched by the hosts from a presigned URL' : 'through the worker'}`, async () => {
      const config = await loadDeliveryConfig({ cwd: project });
      const { release } = (await w.client.workflow.execute('buildRelease', {
        taskQueue: w.taskQueue,
        workflowId: `it-stores-build-${kind}-${run}`,
        args: [{ ...buildRequest(config, { tag: '0.1.0' }), store: descriptor }],
      })) as BuildResult;
      assert.equal(release.version, '0.1.0');
      assert.deepEqual(await stores(descriptor).head(release), release);

      const status = (await w.client.workflow.execute('deployRelease', {
        taskQueue: w.taskQueue,
        workflowId: `it-stores-deploy-${kind}-${run}`,
        args: [deployRequest(descriptor, deployTo)],
      })) as DeployStatus;
      assert.equal(status.phase, 'done');
      const via = { local: 'worker', remote: 'store-host', s3: 'presigned-url' }[kind];
      assert.deepEqual(Object.values(status.hosts).map((h) => [h.step, h.sent, h.via]), [['done', true, via], ['done', true, via]]);
      for (const host of ['prod1', 'prod2']) {
        assert.equal(sha256(readFileSync(onHost(host, 'releases/0.1.0/hello.tar.gz'))), release.sha256);
        assert.ok(existsSync(onHost(host, 'bin/hello')), `${host} has the extracted release`);
      }
    });

    if (kind === 's3') {
      test('s3 with FERRY_S3_PRESIGNED_URLS=0 (hosts that cannot reach S3, or have no curl): the worker streams the object', async () => {
        const streaming = await startWorker(env, 'it-stores-no-presign', testAuth(env), { ...s3, presignedUrls: false });
        try {
          const status = (await streaming.client.workflow.execute('deployRelease', {
            taskQueue: streaming.taskQueue,
            workflowId: `it-stores-deploy-s3-worker-${run}`,
            args: [deployRequest(descriptor, `${deployTo}-worker`, ['prod3'])],
          })) as DeployStatus;
          assert.deepEqual(Object.values(status.hosts).map((h) => [h.step, h.sent, h.via]), [['done', true, 'worker']]);
          const onProd3 = join(env.hostRoot('prod3'), `${deployTo}-worker`.replace(/^\/opt\//, ''), 'hello');
          assert.equal(sha256(readFileSync(join(onProd3, 'releases/0.1.0/hello.tar.gz'))), status.release!.sha256);
          assert.ok(existsSync(join(onProd3, 'bin/hello')));
        } finally {
          await streaming.stop();
        }
      });
    }

    test(`${kind}: a corrupted object fails the host step with a clear message, nothing is extracted and nothing is left`, async () => {
      await corrupt(kind, stores(descriptor), '0.1.0');
      const err = await w.client.workflow
        .execute('deployRelease', { taskQueue: w.taskQueue, workflowId: `it-stores-corrupt-${kind}-${run}`, args: [deployRequest(descriptor, `${deployTo}-bad`, ['prod3'])] })
        .catch((e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError);
      assert.ok(err.cause instanceof ApplicationFailure);
      const status = err.cause.details?.[0] as DeployStatus;
      const host = Object.values(status.hosts)[0]!;
      assert.equal(host.step, 'failed');
      assert.match(
        host.error ?? '',
        kind === 's3'
          ? /^upload: .*hello\.tar\.gz\.partial does not have sha256 [0-9a-f]{64} \(the manifest's\) after the transfer \(via presigned-url\); it was not extracted; the object in s3:\/\/.* may be corrupt/
          : /^upload: .*hello_0\.1\.0\.release\.tar\.gz has sha256 [0-9a-f]{64}, its manifest says [0-9a-f]{64}: the stored object is corrupt or truncated; nothing was extracted/,
      );
      const bad = join(env.hostRoot('prod3'), `${deployTo}-bad`.replace(/^\/opt\//, ''), 'hello');
      assert.equal(existsSync(join(bad, 'releases/0.1.0/hello.tar.gz')), false, 'the corrupt file never got its final name');
      assert.equal(existsSync(join(bad, 'bin')), false, 'nothing was extracted');
      // The upload made the app's directory on this fresh deploy root; the rejected tarball leaves none of it.
      assert.equal(existsSync(bad), false, `no trace under ${deployTo}-bad: ${existsSync(bad) ? readdirSync(bad, { recursive: true }).join(', ') : ''}`);
    });
  }

  test('pruneReleases keeps the N newest and never the version a node runs or would start; nothing else is touched', async () => {
    const deployTo = `/opt/ferry-local-${run}`;
    const hosts = ['prod1', 'prod2'].map((h) => hostTarget(env, h, deployTo));
    const releases = (h: string) => join(env.hostRoot(h), deployTo.replace(/^\/opt\//, ''), 'hello', 'releases');
    for (const h of ['prod1', 'prod2']) for (const v of ['0.0.1', '0.0.2', '0.3.0', '0.4.0', '2', 'not_a_version']) mkdirSync(join(releases(h), v), { recursive: true });
    const ssh = { knownHostsFile: env.knownHosts, identityFile: env.identity };
    const exec = <T>(type: string, id: string, arg: object) => w.client.workflow.execute(type, { taskQueue: w.taskQueue, workflowId: `${id}-${run}`, args: [arg] }) as Promise<T>;
    await exec('nodeCommand', 'it-prune-start', { app: 'hello', environment: 'production', command: 'start', hosts: [hosts[0]], ssh });
    try {
      const result = await exec<PruneResult>('pruneReleases', 'it-prune', { app: 'hello', environment: 'production', keep: 1, hosts, ssh });
      assert.deepEqual(
        result.hosts.map((h) => [h.ok, h.running, h.kept, h.removed]),
        [
          // "2" is the newest: any version counts, not only semver.
          [true, '0.1.0', ['0.1.0', '2'], ['0.0.1', '0.0.2', '0.3.0', '0.4.0']],
          // prod2's node is not running: the version its start script would start is kept.
          [true, undefined, ['0.1.0', '2'], ['0.0.1', '0.0.2', '0.3.0', '0.4.0']],
        ],
      );
      for (const h of ['prod1', 'prod2']) assert.deepEqual(readdirSync(releases(h)).filter((d) => /^\d/.test(d)).sort(), ['0.1.0', '2']);
      assert.ok(existsSync(join(releases('prod1'), 'not_a_version')));
      const again = await exec<PruneResult>('pruneReleases', 'it-prune-again', { app: 'hello', environment: 'production', keep: 1, hosts, ssh });
      assert.deepEqual(again.hosts.map((h) => h.removed), [[], []]);
    } finally {
      await exec('nodeCommand', 'it-prune-stop', { app: 'hello', environment: 'production', command: 'stop', hosts: [hosts[0]], ssh });
    }
  });

  test('the S3 secret key is nowhere in the history of those runs', () => {
    const secret = process.env.AWS_SECRET_ACCESS_KEY!;
    assert.ok(secret.length > 8);
    for (const id of [`it-stores-build-s3-${run}`, `it-stores-deploy-s3-${run}`, `it-stores-corrupt-s3-${run}`]) {
      const r = spawnSync(join(__dirname, '..', '..', '.venv', 'bin', 'temporal'), ['workflow', 'show', '-w', id, '--output', 'json', '--address', env.temporalAddress], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.ok(r.stdout.length > 1000, `${id} has a history`);
      assert.ok(!r.stdout.includes(secret), `${id}: the secret key is in the history`);
    }
  });
});
