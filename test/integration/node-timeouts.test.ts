import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { remoteHostActivities, type OnHost } from '../../activities/remote-host';
import { SshPool } from '../../activities/ssh/ssh-pool';
import { NON_RETRYABLE } from '../../core/domain/errors';
import { hostTarget, testAuth, testEnv } from '../support/env';

/**
 * A release script that hangs (a host under heavy load, a node stuck in boot): the release script's commands run
 * under `timeout 60`, and its exit 124 must say what it waited for. A read-only step is retryable; a step that changes
 * the node is not. About 60 s: the two steps wait in parallel.
 */
const env = testEnv();
const pool = new SshPool(testAuth(env));
after(() => pool.close());
const steps = remoteHostActivities({ ssh: pool, stores: () => assert.fail('no store is used') });

/** A host whose `bin/hello` hangs on `hang`, answers ping with pong otherwise, under /opt/ferry-hang on `name`. */
function hangingRelease(name: string, hang: 'ping' | 'stop'): OnHost {
  const bin = join(env.hostRoot(name), 'ferry-hang', 'hello', 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'hello'), `#!/bin/sh\ncase $1 in ${hang}) exec sleep 600 ;; ping) echo pong ;; esac\n`);
  chmodSync(join(bin, 'hello'), 0o755);
  return { host: hostTarget(env, name, '/opt/ferry-hang'), app: 'hello' };
}

const step = <T>(fn: () => Promise<T>) => new MockActivityEnvironment({ startToCloseTimeoutMs: 180_000 }).run(fn);

test('a read-only step whose command times out says what it waited for and is retryable; a stop that times out is final', async () => {
  const reading = hangingRelease('prod2', 'ping');
  const stopping = hangingRelease('prod3', 'stop');
  const [state, stop] = await Promise.allSettled([step(() => steps.nodeState(reading)), step(() => steps.stopNode(stopping))]);

  assert.equal(state.status, 'rejected');
  const readErr = (state as PromiseRejectedResult).reason as Error;
  assert.equal(readErr.name, 'CommandTimedOutError');
  assert.equal(readErr.message, `${reading.host.name}: timed out after 60 s waiting for \`/opt/ferry-hang/hello/bin/hello ping\``);
  assert.ok(!(NON_RETRYABLE as readonly string[]).includes(readErr.name), 'a timed-out read is retried by the step policy');

  assert.equal(stop.status, 'rejected');
  const stopErr = (stop as PromiseRejectedResult).reason as ApplicationFailure;
  assert.ok(stopErr instanceof ApplicationFailure);
  assert.equal(stopErr.type, 'CommandTimedOutError');
  assert.equal(stopErr.nonRetryable, true);
  assert.equal(stopErr.message, `${stopping.host.name}: timed out after 60 s waiting for \`/opt/ferry-hang/hello/bin/hello stop\``);
});
