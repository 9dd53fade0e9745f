/** The task queue every Ferry worker polls. */
export const TASK_QUEUE = 'ferry';

/** Same request, same id: running the command again attaches to the work in flight. */
export const workflowIds = {
  build: (app: string, ref: string) => `ferry/${app}/build/${ref}`,
  /** One deploy or update per app and environment at a time: the environment lock. */
  environment: (app: string, env: string) => `ferry/${app}/${env}`,
  hostDeploy: (parentId: string, host: string) => `${parentId}/${host}`,
  /** A rollout's host child: one per host, action and attempt, so a retry or rollback never collides with a finished one. */
  rolloutHost: (parentId: string, host: string, what: string) => `${parentId}/${host}/${what}`,
  /** The freeze of an environment (`ferry freeze`), beside its lock: at most one at a time. */
  freeze: (app: string, env: string) => `ferry-freeze/${app}/${env}`,
  node: (app: string, env: string, command: string) => `ferry/${app}/${env}/${command}`,
};
