import type { ActivityOptions, RetryPolicy } from '@temporalio/workflow';
import { NON_RETRYABLE } from '../core/domain/errors';

const retry: RetryPolicy = { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes: [...NON_RETRYABLE] };

/**
 * How long a step may go without a heartbeat: the worker beats every second while any step runs
 * (activities/heartbeat.ts), so a step whose worker was killed is retried about 4 s later, not after its time limit,
 * and a healthy slow step, which keeps beating, is never retried for it. Replay ignores activity options.
 */
const HEARTBEAT = '4s';

/** Short remote commands: unpack, configure, start, stop, ping. */
export const SSH_STEP: ActivityOptions = { startToCloseTimeout: '3m', heartbeatTimeout: HEARTBEAT, retry };

/** Tarball transfers; they heartbeat bytes sent, and every second while quiet (a host's own curl download, a checksum). */
export const TRANSFER: ActivityOptions = { startToCloseTimeout: '30m', heartbeatTimeout: HEARTBEAT, retry };

/** A build on the build host; it heartbeats its output every second. */
export const BUILD: ActivityOptions = { startToCloseTimeout: '1h', heartbeatTimeout: '1m', retry: { ...retry, maximumAttempts: 2 } };

/**
 * Waiting for a node to boot and report the expected version: many quick tries. Longer than the release script's own
 * `timeout 60`, so that a ping that hangs fails with what it waited for, not with the step's time limit.
 */
export const VERIFY: ActivityOptions = {
  startToCloseTimeout: '90s',
  heartbeatTimeout: HEARTBEAT,
  retry: { ...retry, initialInterval: '500ms', backoffCoefficient: 1.5, maximumInterval: '5s', maximumAttempts: 20 },
};

/** Local, read-only steps on the worker: git and store look-ups. */
export const LOCAL: ActivityOptions = { startToCloseTimeout: '1m', retry };

/** Migrations: one release command that may run long; the worker beats every second, so a lost worker is noticed in 4 s. */
export const MIGRATE: ActivityOptions = { startToCloseTimeout: '2h', heartbeatTimeout: HEARTBEAT, retry };
