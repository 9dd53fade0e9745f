import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RolloutHost, RolloutProgress } from '../../../core/domain/plan';
import { packProgress, unpackProgress } from '../../../workflows/carry';

const fresh = (names: string[]): RolloutProgress => ({
  app: 'hello',
  version: '0.2.0',
  phase: 'running',
  stages: [{ environment: 'production', batches: [names.slice(0, 1), names.slice(1)], hosts: Object.fromEntries(names.map((n, i) => [n, { host: n, batch: i === 0 ? 0 : 1, step: 'waiting', attempts: 0 } as RolloutHost])) }],
  approvals: [],
  refused: [],
  decisions: [],
  passed: ['production: before'],
  runs: 2,
});

test('a packed carry comes back as the progress it was, start times aside, and is a fifth of its size at most', () => {
  const names = Array.from({ length: 1000 }, (_, i) => `web${i + 1}`);
  const progress = fresh(names);
  const hosts = progress.stages[0]!.hosts;
  Object.assign(hosts.web1!, { step: 'done', outcome: 'ok', attempts: 1, previousVersion: '0.1.0', version: '0.2.0', durationMs: 1200, startedAt: '2026-01-01T00:00:00.000Z' });
  Object.assign(hosts.web2!, { step: 'rolled-back', outcome: 'failed', attempts: 2, previousVersion: null, error: 'health: exited with 1', fallback: 'why' });
  for (const n of names.slice(2, 900)) Object.assign(hosts[n]!, { step: 'done', outcome: 'ok', attempts: 1, previousVersion: '0.1.0', version: '0.2.0', durationMs: 5 });
  const order = [names];
  const { progress: carried, packed } = packProgress(progress, order);
  const size = JSON.stringify({ carried, packed }).length;
  assert.ok(size * 5 < JSON.stringify(progress).length, `${size} bytes`);
  const back = unpackProgress(JSON.parse(JSON.stringify(carried)), JSON.parse(JSON.stringify(packed)), fresh(names), order);
  delete (hosts.web1 as Partial<RolloutHost>).startedAt;
  assert.deepEqual(back, progress);
});
