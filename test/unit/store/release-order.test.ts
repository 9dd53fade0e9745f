import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { newestUpgrade } from '../../../activities/store';
import { LocalStore } from '../../../activities/store/local-store';
import { sortReleases } from '../../../activities/store/release-store';
import type { StoredRelease } from '../../../core/domain/release';
import { project } from '../../support/project';

const manifest = (version: string, type: 'release' | 'upgrade', builtAt: string, app = 'hello'): StoredRelease => ({
  app,
  version,
  type,
  sha256: '0'.repeat(64),
  size: 1,
  storeKey: `${app}_${version}.${type}.tar.gz`,
  builtAt,
});
const day = (d: number) => `2026-01-${String(d).padStart(2, '0')}T12:00:00.000Z`;
const order = (list: StoredRelease[]) => list.map((r) => `${r.app} ${r.version} ${r.type}`);

test('sortReleases: by app, then the version order, then a release before its upgrade', () => {
  const list = [manifest('10', 'release', day(1)), manifest('2.1', 'upgrade', day(2)), manifest('2', 'release', day(3)), manifest('2.1', 'release', day(4)), manifest('1', 'release', day(5)), manifest('1', 'release', day(1), 'alpha')];
  assert.deepEqual(order(sortReleases(list)), ['alpha 1 release', 'hello 1 release', 'hello 2 release', 'hello 2.1 release', 'hello 2.1 upgrade', 'hello 10 release']);
});

test('sortReleases: versions the rules do not order go by build time; a version keeps its release and upgrade together', () => {
  // 1.0.0 was built first (its upgrade later than 1.0), so 1.0 is the newer version as a whole.
  const list = [manifest('1.0.0', 'upgrade', day(5)), manifest('1.0', 'release', day(3)), manifest('1.0.0', 'release', day(2)), manifest('1.0.0+b', 'release', day(1))];
  assert.deepEqual(order(sortReleases(list)), ['hello 1.0.0+b release', 'hello 1.0.0 release', 'hello 1.0.0 upgrade', 'hello 1.0 release']);
});

test('newestUpgrade of a local store takes the newest by the version order, not by text', async () => {
  const store = new LocalStore(project());
  const file = path.join(project(), 'x.tar.gz');
  writeFileSync(file, 'x');
  const sha256 = createHash('sha256').update('x').digest('hex');
  for (const [version, builtAt] of [['2', day(1)], ['10', day(2)], ['2.1', day(3)]] as const) {
    await store.put(file, { app: 'hello', version, type: 'upgrade', sha256, builtAt, fromVersion: '1' });
  }
  assert.equal((await newestUpgrade(store, 'hello'))?.version, '10');
  assert.deepEqual((await store.list()).map((r) => r.version), ['2', '2.1', '10']);
});
