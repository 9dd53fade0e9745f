import { buildHostActivities, storeActivities } from './build-host';
import { remoteHostActivities } from './remote-host';
import type { SshAuth, SshPool } from './ssh/ssh-pool';
import type { StoreFactory } from './store';

export interface ActivityDeps {
  ssh: SshPool;
  auth: SshAuth;
  /** Release store clients from descriptors, with the worker's own credentials. */
  stores: StoreFactory;
}

/** Everything the worker registers. Secrets reach activities only through `deps` and the worker's files. */
export const createActivities = (deps: ActivityDeps) => ({
  ...remoteHostActivities(deps),
  ...buildHostActivities(deps),
  ...storeActivities(deps),
});

export type Activities = ReturnType<typeof createActivities>;
export type { OnHost, ReleaseOnHost, NodeState } from './remote-host';
export type { BuildOutput, BuildTarget, BuiltRelease, Resolved } from './build-host';
