import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Context } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { KEEP_ALIVE_MS, keepAlive, reportProgress, StepDeadline, stepSignal } from '../../activities/heartbeat';

const quiet = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a quiet activity heartbeats every KEEP_ALIVE_MS, repeating its last progress instead of erasing it', async () => {
  const env = new MockActivityEnvironment();
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  const { transfer, step } = keepAlive({
    async transfer() {
      reportProgress(Context.current(), { bytes: 42 });
      await quiet(KEEP_ALIVE_MS + 500);
      return 'sent';
    },
    async step() {
      await quiet(KEEP_ALIVE_MS + 500);
      return 'done';
    },
  });
  assert.equal(await env.run(transfer), 'sent');
  assert.deepEqual(beats, [{ bytes: 42 }, { bytes: 42 }]);
  beats.length = 0;
  assert.equal(await env.run(step), 'done');
  assert.deepEqual(beats, [undefined]);
});

test('the step signal aborts a few seconds before the time limit with a StepDeadline, or at once with a cancellation', async () => {
  const { wait } = keepAlive({
    async wait() {
      const signal = stepSignal()!;
      const started = Date.now();
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      return { reason: signal.reason as unknown, after: Date.now() - started };
    },
  });
  type Seen = { reason: unknown; after: number };
  const timedOut = (await new MockActivityEnvironment({ startToCloseTimeoutMs: 2000 }).run(wait)) as Seen;
  assert.ok(timedOut.reason instanceof StepDeadline);
  assert.equal(timedOut.reason.seconds, 2);
  assert.ok(timedOut.after >= 1700 && timedOut.after < 5000, `aborted after ${timedOut.after} ms`);

  const env = new MockActivityEnvironment({ startToCloseTimeoutMs: 60_000 });
  const running = env.run(wait);
  await quiet(100);
  env.cancel('CANCELLED');
  const cancelled = (await running) as Seen;
  assert.equal((cancelled.reason as Error).name, 'CancelledFailure');
  assert.equal(stepSignal(), undefined, 'outside an activity there is no step signal');
});
