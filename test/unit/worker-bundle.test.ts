import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { workflowBundle, workflowSourceDigest } from '../../worker/bundle';

const cache = mkdtempSync(join(tmpdir(), 'ferry-bundle-'));
after(() => rmSync(cache, { recursive: true, force: true }));

test('the workflow bundle is made once per source digest and then read from FERRY_CACHE_DIR', async () => {
  const before = process.env.FERRY_CACHE_DIR;
  process.env.FERRY_CACHE_DIR = cache;
  try {
    const digest = workflowSourceDigest();
    assert.match(digest, /^[0-9a-f]{16}$/);
    assert.equal(workflowSourceDigest(), digest);
    const first = await workflowBundle();
    assert.ok('code' in first && first.code.includes('deployRelease'), 'the first call bundles the workflows');
    assert.deepEqual(readdirSync(cache), [`workflow-bundle-${digest}.js`]);
    assert.deepEqual(await workflowBundle(), { codePath: join(cache, `workflow-bundle-${digest}.js`) });
  } finally {
    if (before === undefined) delete process.env.FERRY_CACHE_DIR;
    else process.env.FERRY_CACHE_DIR = before;
  }
});
