import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Context } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { KEEP_ALIVE_MS, keepAlive, reportProgress } from '../../activities/heartbeat';

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
