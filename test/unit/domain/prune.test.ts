import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as release from '../../../core/commands/release';
import { toShell } from '../../../core/commands/shell';
import { releaseLayout } from '../../../core/domain/host';
import { planPrune } from '../../../core/domain/prune';

test('planPrune keeps the N newest by version semantics, not string order', () => {
  assert.deepEqual(planPrune(['0.9.0', '0.10.0', '0.2.0', '1.0.0-rc.1'], 2, []), { keep: ['0.10.0', '1.0.0-rc.1'], remove: ['0.2.0', '0.9.0'] });
});

test('planPrune never removes a protected version (running, or the one the start script starts)', () => {
  assert.deepEqual(planPrune(['0.1.0', '0.2.0', '0.3.0'], 1, ['0.1.0', undefined]), { keep: ['0.1.0', '0.3.0'], remove: ['0.2.0'] });
  assert.deepEqual(planPrune(['0.1.0'], 1, ['0.1.0']), { keep: ['0.1.0'], remove: [] });
});

test('planPrune orders free-form versions by the one comparator: 1 < 2 < 2.1 < 10 < 2024.05.01', () => {
  assert.deepEqual(planPrune(['10', '2.1', '1', '2024.05.01', '2', '1.0.0-rc.1'], 3, []), { keep: ['2.1', '10', '2024.05.01'], remove: ['1.0.0-rc.1', '1', '2'] });
  assert.deepEqual(planPrune(['1.0', '1.0.0', '0.9'], 1, []), { keep: ['1.0.0'], remove: ['0.9', '1.0'] });
});

test('planPrune leaves names that are not versions alone', () => {
  assert.deepEqual(planPrune(['RELEASES', 'start_erl.data', 'a b', '0.1.0', '0.2.0'], 1, []), { keep: ['0.2.0'], remove: ['0.1.0'] });
});

test('release.removeVersion and release.startData build one quoted command each', () => {
  const layout = releaseLayout('/opt/my app', 'hello');
  assert.equal(toShell(release.removeVersion(layout, '0.1.0')), "rm -rf -- '/opt/my app/hello/releases/0.1.0'");
  assert.equal(toShell(release.startData(layout)), `sh -c 'if [ -f "$1" ]; then cat "$1"; fi' start-data '/opt/my app/hello/releases/start_erl.data'`);
});
