import { Context } from '@temporalio/activity';
import { buildHostActivities, storeActivities } from './build-host';
import { hookActivities } from './hooks';
import { healthActivities } from './health';
import { migrationActivities } from './migrations';
import { remoteHostActivities } from './remote-host';
import type { SshAuth, SshPool } from './ssh/ssh-pool';
import type { StoreFactory } from './store';

export interface ActivityDeps {
  ssh: SshPool;
  auth: SshAuth;
  /** Release store clients from descriptors, with the worker's own credentials. */
  stores: StoreFactory;
}

/** Activities that heartbeat their own progress (bytes, build output); a bare beat would erase those details. */
const REPORTS_PROGRESS = new Set(['uploadRelease', 'compileRelease', 'prepareBuild', 'makeRelup', 'fetchRelease']);

/** How often every other activity tells Temporal it is alive; the policies' heartbeat timeouts are a few times this. */
export const KEEP_ALIVE_MS = 5_000;

/**
 * Wraps each activity that does not report progress itself in a plain heartbeat every KEEP_ALIVE_MS, so that a step
 * whose worker was killed is retried after its heartbeat timeout (seconds), not after its start-to-close timeout.
 */
function keepAlive<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = REPORTS_PROGRESS.has(name)
      ? fn
      : async (...args: never[]) => {
          const ctx = Context.current();
          const beat = setInterval(() => ctx.heartbeat(), KEEP_ALIVE_MS);
          try {
            return await fn(...args);
          } finally {
            clearInterval(beat);
          }
        };
  }
  return wrapped as T;
}

/** Everything the worker registers. Secrets reach activities only through `deps` and the worker's files. */
export const createActivities = (deps: ActivityDeps) =>
  keepAlive({
    ...remoteHostActivities(deps),
    ...buildHostActivities(deps),
    ...storeActivities(deps),
    ...hookActivities(deps),
    ...healthActivities(),
    ...migrationActivities(deps),
  });

export type Activities = ReturnType<typeof createActivities>;
export type { OnHost, ReleaseOnHost, NodeState } from './remote-host';
export type { HookOnHost, HookOutput } from './hooks';
export type { MigrationOutput } from './migrations';
export type { BuildOutput, BuildTarget, BuiltRelease, Resolved } from './build-host';
