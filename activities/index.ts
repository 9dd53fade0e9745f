import { buildHostActivities, storeActivities } from './build-host';
import { hookActivities } from './hooks';
import { healthActivities } from './health';
import { keepAlive } from './heartbeat';
import { migrationActivities } from './migrations';
import { notifyActivities, notifySettingsFromEnv, type NotifySettings } from './notify';
import { remoteHostActivities } from './remote-host';
import type { SshAuth, SshPool } from './ssh/ssh-pool';
import type { StoreFactory } from './store';
import { guardWorkerFiles } from './worker-files';

export interface ActivityDeps {
  ssh: SshPool;
  auth: SshAuth;
  /** Release store clients from descriptors, with the worker's own credentials. */
  stores: StoreFactory;
  /** The directories under which a request may name files on the worker machine (`workerFilesFromEnv`). */
  workerFiles: readonly string[];
  /** Webhooks for rollout events (NOTIFY_URLS of the worker's environment); default: none. */
  notify?: NotifySettings;
}

/**
 * Everything the worker registers. Secrets reach activities only through `deps` and the worker's files; a file a
 * request names on the worker machine must be under `deps.workerFiles`.
 */
export const createActivities = (deps: ActivityDeps) =>
  keepAlive(
    guardWorkerFiles(deps.workerFiles, {
      ...remoteHostActivities(deps),
      ...buildHostActivities(deps),
      ...storeActivities(deps),
      ...hookActivities(deps),
      ...healthActivities(),
      ...migrationActivities(deps),
      ...notifyActivities(deps.notify ?? notifySettingsFromEnv({})),
    }),
  );

export type Activities = ReturnType<typeof createActivities>;
export type { OnHost, ReleaseOnHost, NodeState } from './remote-host';
export type { HookOnHost, HookOutput } from './hooks';
export type { MigrationOutput } from './migrations';
export type { Notification } from './notify';
export type { BuildOutput, BuildTarget, BuiltRelease, Resolved } from './build-host';
