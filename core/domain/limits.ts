/**
 * Upper bounds on what a request may hold: generous for real use, there so that no input can make a workflow task
 * fail again and again (a child workflow id past Temporal's limit, more pending children or activities than a run may
 * have, a timer or a retry interval the SDK cannot express) or swell a history. The README's "Limits" table lists them.
 */
export const LIMITS = {
  /** Hosts of one deploy, environment or rollout stage (a workflow run may have at most 2,000 pending children). */
  hosts: 1000,
  /** Hosts of one rollout stage: a rollout continues as new within a batch, so its runs stay small (docs/scale.md). */
  stageHosts: 10_000,
  /** Hosts a rollout works on at once (pending children and activities of one run; Temporal advises at most ~500). */
  inFlight: 500,
  /** Stages of one rollout. */
  stages: 20,
  /** App and environment names. */
  name: 64,
  /** A DNS name is at most 253 characters; a host's `name` adds `:port` to it. */
  address: 253,
  hostName: 260,
  /** Login user names (useradd allows 32). */
  user: 64,
  /** Absolute paths, on the worker or on a host. */
  path: 1024,
  /** Git branches, tags and revisions. */
  gitRef: 255,
  /** Erlang node names (an atom has at most 255 characters). */
  nodeName: 255,
  /** Who started, approved or decided: `startedBy`, `approvers`, `by`. */
  person: 200,
  approvers: 100,
  /** Batch sizes in a rollout stage's `ramp`. */
  ramp: 100,
  /** A health command's words, and each word's length. */
  healthArgs: 64,
  healthArg: 4096,
  url: 2048,
  /** Pauses, approval timeouts: 30 days, in seconds. */
  waitSeconds: 30 * 24 * 3600,
  /** The workflow's own id; the ids of its children add at most 500 characters (Temporal refuses ids past 1,000). */
  workflowId: 500,
} as const;
