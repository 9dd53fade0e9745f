import { Context } from '@temporalio/activity';

/** How often every activity tells Temporal it is alive; the policies' heartbeat timeouts are a few times this. */
export const KEEP_ALIVE_MS = 1_000;

const lastProgress = new WeakMap<Context, unknown>();
const stepSignals = new WeakMap<Context, AbortSignal>();

/** Heartbeats an activity's progress (bytes, build output); the keep-alive beat repeats the last one, never erases it. */
export function reportProgress(ctx: Context, details: unknown): void {
  lastProgress.set(ctx, details);
  ctx.heartbeat(details);
}

/** The reason a step's signal aborts when the step's own time runs out (not a cancellation). */
export class StepDeadline extends Error {
  constructor(readonly seconds: number) {
    super(`the step's time limit of ${seconds} s ran out`);
  }
}

/**
 * The signal the current step's remote work stops on: the step's cancellation, or its time limit (start-to-close)
 * less a few seconds, with a StepDeadline as the reason. A hung command is thus stopped on its host, and fails with an
 * error that says what it waited for, before Temporal gives the step to another attempt. Undefined outside an activity.
 */
export function stepSignal(): AbortSignal | undefined {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return undefined;
  }
  return stepSignals.get(ctx) ?? ctx.cancellationSignal;
}

/**
 * Wraps every activity in a heartbeat every KEEP_ALIVE_MS (with its last progress, if it reports any), so that a step
 * whose worker was killed is retried after its heartbeat timeout (seconds), not after its start-to-close timeout,
 * also while a transfer or a build is quiet; and gives it its `stepSignal`.
 */
export function keepAlive<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      const ctx = Context.current();
      lastProgress.delete(ctx);
      const beat = setInterval(() => ctx.heartbeat(lastProgress.get(ctx)), KEEP_ALIVE_MS);
      const limit = ctx.info.startToCloseTimeoutMs;
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(new StepDeadline(Math.round(limit / 1000))), limit - Math.min(5_000, limit / 10));
      stepSignals.set(ctx, AbortSignal.any([ctx.cancellationSignal, deadline.signal]));
      try {
        return await fn(...args);
      } finally {
        clearInterval(beat);
        clearTimeout(timer);
      }
    };
  }
  return wrapped as T;
}
