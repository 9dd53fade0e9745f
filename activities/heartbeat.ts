import { Context } from '@temporalio/activity';

/** How often every activity tells Temporal it is alive; the policies' heartbeat timeouts are a few times this. */
export const KEEP_ALIVE_MS = 5_000;

const lastProgress = new WeakMap<Context, unknown>();

/** Heartbeats an activity's progress (bytes, build output); the keep-alive beat repeats the last one, never erases it. */
export function reportProgress(ctx: Context, details: unknown): void {
  lastProgress.set(ctx, details);
  ctx.heartbeat(details);
}

/**
 * Wraps every activity in a heartbeat every KEEP_ALIVE_MS (with its last progress, if it reports any), so that a step
 * whose worker was killed is retried after its heartbeat timeout (seconds), not after its start-to-close timeout,
 * also while a transfer or a build is quiet.
 */
export function keepAlive<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      const ctx = Context.current();
      lastProgress.delete(ctx);
      const beat = setInterval(() => ctx.heartbeat(lastProgress.get(ctx)), KEEP_ALIVE_MS);
      try {
        return await fn(...args);
      } finally {
        clearInterval(beat);
      }
    };
  }
  return wrapped as T;
}
