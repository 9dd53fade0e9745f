import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextStep, rolloutReport } from '../../../client/progress';
import type { RolloutProgress } from '../../../core/domain/plan';

const progress = (extra: Partial<RolloutProgress> = {}): RolloutProgress => ({
  app: 'hello',
  version: '0.2.0',
  phase: 'waiting-for-approval',
  stage: 0,
  batch: 0,
  stages: [
    {
      environment: 'production',
      batches: [['web1'], ['web2']],
      hosts: {
        web1: { host: 'web1', batch: 0, step: 'done', outcome: 'ok', version: '0.2.0', previousVersion: '0.1.0', attempts: 1, durationMs: 1500 },
        web2: { host: 'web2', batch: 1, step: 'waiting', attempts: 0 },
      },
    },
  ],
  waiting: { kind: 'approval', gate: 'production: after canary', since: '2026-11-29T20:00:00.000Z' },
  approvals: [],
  refused: [{ decision: 'approve', by: 'mallory', at: '2026-11-29T20:01:00.000Z', reason: 'mallory may not approve this rollout (approvers: alice)' }],
  decisions: [],
  passed: [],
  runs: 0,
  ...extra,
});

test('the rollout report shows the position, each host, refusals and the command that answers the gate', () => {
  assert.equal(
    rolloutReport(progress(), 'production'),
    [
      'hello 0.2.0 rollout: waiting-for-approval, stage 1/1 (production), batch 1/2',
      '  production',
      '    ✓ web1                   batch 1  done        0.2.0  1.5s',
      '    · web2                   batch 2  waiting',
      '  refused approve by mallory at 2026-11-29T20:01:00.000Z: mallory may not approve this rollout (approvers: alice)',
      '  waiting for approval (production: after canary) since 2026-11-29T20:00:00.000Z: `ferry approve production [--comment=...]` or `ferry reject production`',
    ].join('\n'),
  );
});

test('a rollout waiting for an operator names the host, its error and the resume choices', () => {
  const p = progress({ phase: 'waiting-for-operator', waiting: { kind: 'operator', stage: 'production', hosts: ['web2'], host: 'web2', error: 'upload: refused', since: 'T' } });
  assert.equal(nextStep(p, 'production'), 'waiting for an operator since T: web2 failed: upload: refused\n  decide with `ferry resume production --retry|--skip|--rollback|--abort [--host=H]`');
  assert.equal(nextStep(progress({ waiting: undefined, phase: 'done' }), 'production'), undefined);
});
