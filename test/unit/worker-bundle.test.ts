import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { workflowBundle, workflowSourceDigest } from '../../worker/bundle';

const cache = mkdtempSync(join(tmpdir(), 'ferry-bundle-'));
after(() => rmSync(cache, { recursive: true, force: true }));

test('the workflow bundle is made once per source digest and then read from FERRY_CACHE_DIR; stale bundles go', async () => {
  const before = process.env.FERRY_CACHE_DIR;
  process.env.FERRY_CACHE_DIR = cache;
  // Bundles of other sources: one two days old (removed when a new bundle is written), one fresh (kept), another file (kept).
  const stale = 'workflow-bundle-00000000000000aa.js';
  const fresh = 'workflow-bundle-00000000000000bb.js';
  for (const f of [stale, fresh, 'notes.txt']) writeFileSync(join(cache, f), '');
  const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600_000);
  utimesSync(join(cache, stale), twoDaysAgo, twoDaysAgo);
  try {
    const digest = workflowSourceDigest();
    assert.match(digest, /^[0-9a-f]{16}$/);
    assert.equal(workflowSourceDigest(), digest);
    const first = await workflowBundle();
    assert.ok('code' in first && first.code.includes('deployRelease'), 'the first call bundles the workflows');
    assert.deepEqual(readdirSync(cache).sort(), [fresh, 'notes.txt', `workflow-bundle-${digest}.js`].sort());
    assert.deepEqual(await workflowBundle(), { codePath: join(cache, `workflow-bundle-${digest}.js`) });
  } finally {
    if (before === undefined) delete process.env.FERRY_CACHE_DIR;
    else process.env.FERRY_CACHE_DIR = before;
  }
});
