import { buildHostActivities, storeActivities } from './build-host';
import { remoteHostActivities } from './remote-host';
import type { SshAuth, SshPool } from './ssh/ssh-pool';

export interface ActivityDeps {
  ssh: SshPool;
  auth: SshAuth;
}

/** Everything the worker registers. Secrets reach activities only through `deps` and the worker's files. */
export const createActivities = (deps: ActivityDeps) => ({
  ...remoteHostActivities(deps),
  ...buildHostActivities(deps),
  ...storeActivities(),
});

export type Activities = ReturnType<typeof createActivities>;
export type { OnHost, ReleaseOnHost, NodeState } from './remote-host';
export type { BuildOutput, BuildTarget, BuiltRelease, Resolved } from './build-host';
