import { z } from 'zod';
import type { HostProgress } from './requests';
import { appSchema, environmentSchema, hostListSchema, migrationStepSchema, nodeSettingsSchema, personSchema, sshSettingsSchema, upgradeFallbackSchema, versionSchema } from './requests';
import { LIMITS } from './limits';
import type { Freeze } from './freeze';
import { hooksSchema } from './hooks';
import type { MigrateResult } from './migrations';
import type { Preflight } from './preflight';
import { storeDescriptorSchema } from './store';
import { validZone } from './window';

/**
 * The input of the `rollout` workflow: plain JSON, so `temporal workflow start --type rollout --input-file plan.json`
 * works without Ferry's CLI. Pure, and reachable from workflow code: changing what a plan means needs `patched()`.
 */

/** A batch size: a host count (`2`) or a share of the stage's hosts (`'25%'`, rounded up, at least one host). */
export type BatchSize = number | `${number}%`;

const batchSize = z.union([
  z.number().int().min(1, 'must be at least 1 host').max(LIMITS.stageHosts, `must be at most ${LIMITS.stageHosts} hosts`),
  z.string().regex(/^(?:100|[1-9][0-9]?)%$/, 'must be a host count or a percentage from 1% to 100%') as z.ZodType<`${number}%`>,
]);

const probeTiming = {
  retries: z.number().int().min(0).max(100).default(3).describe('Tries after the first failed one before the host counts as failed'),
  intervalSeconds: z.number().positive().max(3600).default(2).describe('Wait between two tries'),
  timeoutSeconds: z.number().positive().max(600).default(10).describe('How long one try may take'),
};

/** A command run on the host after the deploy, in the app's deploy root; exit 0 means healthy. Argv: quoted when sent. */
const healthCommandSchema = z.strictObject({
  command: z
    .array(z.string().min(1).max(LIMITS.healthArg).refine((a) => !a.includes('\0'), 'contains NUL'))
    .min(1, 'names no program')
    .max(LIMITS.healthArgs, `at most ${LIMITS.healthArgs} words`)
    .describe('The program and its arguments, e.g. ["bin/hello", "eval", "ok."]'),
  ...probeTiming,
});

/** An HTTP GET from the worker; `{host}` in the URL becomes the host's address. */
const healthHttpSchema = z.strictObject({
  url: z
    .string()
    .max(LIMITS.url, `must be at most ${LIMITS.url} characters`)
    .regex(/^https?:\/\/[^\s\p{Cc}]+$/u, 'must be an http:// or https:// URL (with {host} for the host\'s address)')
    .describe('The URL to GET, e.g. http://{host}:4000/health; {host} is the host\'s address'),
  expectStatus: z.number().int().min(100).max(599).default(200).describe('The status that means healthy'),
  ...probeTiming,
});

/**
 * After a stage (and after its canary): keep checking its hosts for `seconds`, every `intervalSeconds`, with the
 * stage's health checks plus, optionally, an Erlang expression evaluated on each node that must return `true` or `ok`.
 */
const bakeSchema = z.strictObject({
  seconds: z.number().positive().max(LIMITS.waitSeconds, 'must be at most 30 days').describe('How long the bake lasts'),
  intervalSeconds: z.number().positive().max(LIMITS.waitSeconds).default(60).describe('Wait between two rounds of checks'),
  erlang: z
    .string()
    .max(LIMITS.healthArg, `must be at most ${LIMITS.healthArg} characters`)
    .regex(/^[^\p{Cc}]+\.$/u, 'must be one Erlang expression on one line, ending with a dot, e.g. length(processes()) < 100000.')
    .optional()
    .describe('An Erlang expression evaluated on each node (bin/<app> eval) that must return true or ok, e.g. an error counter check'),
});
export type Bake = z.output<typeof bakeSchema>;

/** A deploy window as `parseWindow` reads it; the zone is checked again here, for plans that come as JSON. */
const windowSchema = z.strictObject({
  days: z.array(z.number().int().min(0).max(6)).min(1).max(7),
  start: z.number().int().min(0).max(1439),
  end: z.number().int().min(1).max(1440),
  zone: z.string().max(100).refine(validZone, 'must be an IANA time zone, e.g. Europe/Berlin'),
  text: z.string().max(200),
});

export type HealthCommand = z.output<typeof healthCommandSchema>;
export type HealthHttp = z.output<typeof healthHttpSchema>;

/** What a stage does when more hosts fail than it tolerates. */
export const FAILURE_POLICIES = ['halt', 'rollback-batch', 'rollback-stage'] as const;
export type FailurePolicy = (typeof FAILURE_POLICIES)[number];

const stageSchema = z.strictObject({
  environment: environmentSchema.describe('The environment this stage deploys to, e.g. staging, then production'),
  hosts: hostListSchema(LIMITS.stageHosts).describe('The hosts of the stage, in order: the canary comes first'),
  action: z
    .enum(['deploy', 'upgrade', 'downgrade'])
    .default('deploy')
    .describe('What happens on each host: deploy (upload, unpack, configure, restart), upgrade (a hot upgrade to `version` from the stored upgrade; rollback is a downgrade) or downgrade (a hot downgrade of the running node to `version`, still unpacked on the host; rollback upgrades it back), which `ferry rollback` uses after a hot upgrade'),
  startDeploy: z.boolean().default(true).describe('Start or restart the node and verify the version it runs'),
  canary: z.number().int().min(0).max(LIMITS.stageHosts).default(0).describe('How many hosts form the first batch, alone'),
  ramp: z.array(batchSize).max(LIMITS.ramp, `at most ${LIMITS.ramp} steps`).default([]).describe('Sizes of the batches after the canary, e.g. [1, 2, "25%"]'),
  batch: batchSize.optional().describe('Size of every later batch; default: all remaining hosts at once'),
  pauseSeconds: z.number().min(0).max(LIMITS.waitSeconds, 'must be at most 30 days').default(0).describe('Wait between two batches'),
  maxFailures: z.number().int().min(0).max(LIMITS.stageHosts).default(0).describe('Failed hosts the stage tolerates before its failure policy applies'),
  minHealthy: batchSize
    .optional()
    .describe('Hosts of the stage (a count or a percentage) that must not have failed; fewer apply the failure policy'),
  onFailure: z
    .enum(FAILURE_POLICIES)
    .default('halt')
    .describe('Past the failure limit: halt (wait for an operator), rollback-batch (the batch\'s touched hosts go back to their previous version) or rollback-stage (every host the stage touched goes back)'),
  afterRollback: z
    .enum(['wait', 'end'])
    .default('wait')
    .describe('After a rollback-batch or rollback-stage: wait for an operator (resume --retry/--skip/--rollback/--abort) or end the rollout as rolled back'),
  healthCheck: z.boolean().default(true).describe('After each host: ping it and compare the version it runs (with startDeploy)'),
  healthCommand: healthCommandSchema.optional().describe('After the ping and version check: a command on the host that must exit 0'),
  healthHttp: healthHttpSchema.optional().describe('After the ping and version check: an HTTP GET from the worker that must answer expectStatus'),
  window: windowSchema.optional().describe('Deploy window (<ENV>_DEPLOY_WINDOW): a batch that would start outside it waits until it opens'),
  bake: bakeSchema.optional().describe('Watch the canary and then the whole stage for a while before going on; a failed check applies onFailure'),
  approveBefore: z.boolean().default(false).describe('Wait for an approval before the stage touches any host'),
  approveAfterCanary: z.boolean().default(false).describe('Wait for an approval after the canary batch is healthy'),
  node: nodeSettingsSchema.describe('Per-node config of the environment: LINK_VM_ARGS, LINK_SYS_CONFIG, COOKIE_FILE, the cluster'),
  migrations: migrationStepSchema
    .optional()
    .describe('Run migrations once in this stage, on its first running node: `before` its first batch or `after` its last (default)'),
});

export const rolloutPlanSchema = z.strictObject({
  app: appSchema,
  version: versionSchema,
  store: storeDescriptorSchema,
  ssh: sshSettingsSchema,
  hooks: hooksSchema.describe('`.deliver/config` hook functions run on each host (pre/post_extract_release_archive, pre/post_start_deployed_release)'),
  stages: z.array(stageSchema).min(1, 'names no stage').max(LIMITS.stages, `at most ${LIMITS.stages} stages`),
  startedBy: personSchema.optional().describe('Who started the rollout (the CLI sets the OS user)'),
  approvers: z.array(personSchema).max(LIMITS.approvers, `at most ${LIMITS.approvers} approvers`).optional().describe('Only these may approve or reject; default: anyone'),
  forbidSelfApproval: z.boolean().default(false).describe('Refuse an approval by `startedBy`'),
  approvalTimeoutSeconds: z.number().positive().max(LIMITS.waitSeconds, 'must be at most 30 days').optional().describe('An approval not given in time rejects the rollout'),
  upgradeFallback: upgradeFallbackSchema.describe('Upgrade stages whose plan says a hot upgrade is unsafe: restart (a rolling restart onto the new release, batch by batch) or refuse (the rollout touches no host)'),
  continueAsNewAfterEvents: z
    .number()
    .int()
    .min(50)
    .max(40_000)
    .default(2000)
    .describe('Between batches, continue as new once the history has this many events'),
  maxInFlight: z
    .number()
    .int()
    .min(1)
    .max(LIMITS.inFlight)
    .default(40)
    .describe('Hosts worked on at once, within a batch and in a rollback; each run also stays under about 9,000 events. Past ~50, a busy worker risks workflow tasks the server force-closes (more than 100 events buffered while one runs): see docs/scale.md'),
});

export type RolloutPlan = z.input<typeof rolloutPlanSchema>;
export type ParsedPlan = z.output<typeof rolloutPlanSchema>;
export type Stage = z.output<typeof stageSchema>;
export type StagePlan = z.input<typeof stageSchema>;

/** True while a stage's failed hosts are within its limits: at most `maxFailures`, and at least `minHealthy` not failed. */
export function withinFailureLimit(s: { maxFailures: number; minHealthy?: BatchSize | undefined }, total: number, failed: number): boolean {
  if (failed > s.maxFailures) return false;
  return s.minHealthy === undefined || total - failed >= Math.min(total, resolveSize(s.minHealthy, total));
}

/** Resolves a batch size against the stage's host count: a percentage rounds up and is at least one host. */
export function resolveSize(size: BatchSize, total: number): number {
  if (typeof size === 'number') return size;
  return Math.max(1, Math.ceil((Number(size.slice(0, -1)) * total) / 100));
}

/**
 * Cuts a stage's hosts into batches, in order: the canary, then one batch per ramp step, then batches of `batch`
 * (default: everything left). Every host is in exactly one batch; sizes larger than what is left are clipped.
 */
export function planBatches<T>(hosts: readonly T[], s: { canary?: number; ramp?: readonly BatchSize[]; batch?: BatchSize }): T[][] {
  const batches: T[][] = [];
  let at = 0;
  const take = (n: number) => {
    if (at >= hosts.length || n <= 0) return;
    batches.push(hosts.slice(at, at + n));
    at += n;
  };
  take(s.canary ?? 0);
  for (const step of s.ramp ?? []) take(resolveSize(step, hosts.length));
  const rest = s.batch === undefined ? hosts.length : resolveSize(s.batch, hosts.length);
  while (at < hosts.length) take(rest);
  return batches;
}

/** Where a host of a rollout is: the deploy steps, then the rollout's own. */
export type RolloutHostStep = HostProgress['step'] | 'health' | 'rollback' | 'rolled-back' | 'skipped';

/** One host in a rollout's progress. */
export interface RolloutHost {
  host: string;
  batch: number;
  step: RolloutHostStep;
  outcome?: 'ok' | 'failed' | 'skipped' | 'rolled-back';
  /** The version the node ran before this rollout touched it; null when none ran. Rollback goes back to it. */
  previousVersion?: string | null;
  version?: string;
  attempts: number;
  /** Why the host was restarted onto the upgrade's release instead of hot-upgraded; its rollback is then a redeploy. */
  fallback?: string;
  startedAt?: string;
  durationMs?: number;
  error?: string;
}

/** An approve or reject that counted. */
export interface Approval {
  gate: string;
  decision: 'approved' | 'rejected';
  by: string;
  at: string;
  comment?: string;
  via: 'update' | 'signal' | 'timeout';
}

/** An operator's resume, pause or continue, as recorded. */
export interface Decision {
  action: ResumeRequest['action'] | 'pause' | 'promote';
  host?: string;
  by?: string;
  at: string;
}

/** A signal that did not count (an update that does not pass its validator leaves no trace at all). */
export interface Refusal {
  decision: string;
  by: string;
  at: string;
  reason: string;
}

/** What the rollout waits for, and since when. */
export type Waiting =
  | { kind: 'approval'; gate: string; since: string; approvers?: string[] }
  | { kind: 'operator'; stage: string; hosts: string[]; host: string; error: string; since: string }
  | { kind: 'pause'; since: string; by?: string }
  | { kind: 'bake'; stage: string; after: 'canary' | 'stage'; until: string; since: string }
  | { kind: 'window'; stage: string; window: string; opensAt: string; since: string }
  | { kind: 'freeze'; by: string; reason: string; since: string };

/** One bake of a stage or its canary: when, how many rounds of checks, and how it ended (with the reason). */
export interface BakeRecord {
  stage: string;
  after: 'canary' | 'stage';
  startedAt: string;
  until: string;
  rounds: number;
  outcome: 'baking' | 'passed' | 'failed' | 'promoted';
  endedAt?: string;
  /** Who skipped the rest of it (`ferry promote`). */
  by?: string;
  host?: string;
  error?: string;
}

/** The `progress` query of the rollout workflow, and its result (or a failure's details). */
export interface RolloutProgress {
  app: string;
  version: string;
  phase: 'running' | 'waiting-for-approval' | 'waiting-for-operator' | 'paused' | 'done' | 'rejected' | 'aborted' | 'rolled-back';
  startedBy?: string;
  /** The stage and batch being worked on (0-based indexes), when one is. */
  stage?: number;
  batch?: number;
  /** Per stage; `migration` is what the stage's migrations printed, once they ran. */
  stages: Array<{ environment: string; batches: string[][]; hosts: Record<string, RolloutHost>; migration?: MigrateResult }>;
  waiting?: Waiting;
  approvals: Approval[];
  refused: Refusal[];
  decisions: Decision[];
  /** Gates already passed (`<environment>: before` or `<environment>: after canary`); a new run does not ask again. */
  passed: string[];
  /** How many times the workflow continued as new. */
  runs: number;
  /** Upgrade stages: hot, restart or refuse, decided from the upgrade's plan before any host is touched. */
  preflight?: Preflight;
  /** Freezes of the environment this rollout was told about (`ferry freeze`), with who lifted them. */
  freezes?: Freeze[];
  /** The bakes so far, in order (absent until the first one). */
  bakes?: BakeRecord[];
}

/** `approve` / `reject` input, as `temporal workflow update execute --input '{"by":"alice","comment":"ok"}'` sends it. */
export interface ApprovalRequest {
  by: string;
  comment?: string;
}

/** `resume` input: the operator's decision about failed hosts, or `continue` after a pause. */
export interface ResumeRequest {
  action: 'retry' | 'skip' | 'rollback' | 'abort' | 'continue';
  host?: string;
  by?: string;
}
