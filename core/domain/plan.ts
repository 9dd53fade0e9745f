import { z } from 'zod';
import type { HostProgress } from './requests';
import { appSchema, environmentSchema, hostTargetSchema, migrationStepSchema, sshSettingsSchema, versionSchema } from './requests';
import type { MigrateResult } from './migrations';
import { storeDescriptorSchema } from './store';

/**
 * The input of the `rollout` workflow: plain JSON, so `temporal workflow start --type rollout --input-file plan.json`
 * works without Ferry's CLI. Pure, and reachable from workflow code: changing what a plan means needs `patched()`.
 */

/** A batch size: a host count (`2`) or a share of the stage's hosts (`'25%'`, rounded up, at least one host). */
export type BatchSize = number | `${number}%`;

const batchSize = z.union([
  z.number().int().min(1, 'must be at least 1 host'),
  z.string().regex(/^(?:100|[1-9][0-9]?)%$/, 'must be a host count or a percentage from 1% to 100%') as z.ZodType<`${number}%`>,
]);

const stageSchema = z.strictObject({
  environment: environmentSchema.describe('The environment this stage deploys to, e.g. staging, then production'),
  hosts: z.array(hostTargetSchema).min(1, 'names no host').describe('The hosts of the stage, in order: the canary comes first'),
  // The extension point for hot upgrades: 'upgrade' will run a hostUpgrade child instead of hostDeploy.
  action: z.enum(['deploy']).default('deploy').describe('What happens on each host: deploy (upload, unpack, configure, restart)'),
  startDeploy: z.boolean().default(true).describe('Start or restart the node and verify the version it runs'),
  canary: z.number().int().min(0).default(0).describe('How many hosts form the first batch, alone'),
  ramp: z.array(batchSize).default([]).describe('Sizes of the batches after the canary, e.g. [1, 2, "25%"]'),
  batch: batchSize.optional().describe('Size of every later batch; default: all remaining hosts at once'),
  pauseSeconds: z.number().min(0).default(0).describe('Wait between two batches'),
  maxFailures: z.number().int().min(0).default(0).describe('Failed hosts the stage tolerates before it waits for an operator'),
  healthCheck: z.boolean().default(true).describe('After each host: ping it and compare the version it runs (with startDeploy)'),
  approveBefore: z.boolean().default(false).describe('Wait for an approval before the stage touches any host'),
  approveAfterCanary: z.boolean().default(false).describe('Wait for an approval after the canary batch is healthy'),
  migrations: migrationStepSchema
    .optional()
    .describe('Run migrations once in this stage, on its first running node: `before` its first batch or `after` its last (default)'),
});

export const rolloutPlanSchema = z.strictObject({
  app: appSchema,
  version: versionSchema,
  store: storeDescriptorSchema,
  ssh: sshSettingsSchema,
  stages: z.array(stageSchema).min(1, 'names no stage'),
  startedBy: z.string().min(1).optional().describe('Who started the rollout (the CLI sets the OS user)'),
  approvers: z.array(z.string().min(1)).optional().describe('Only these may approve or reject; default: anyone'),
  forbidSelfApproval: z.boolean().default(false).describe('Refuse an approval by `startedBy`'),
  approvalTimeoutSeconds: z.number().positive().optional().describe('An approval not given in time rejects the rollout'),
  continueAsNewAfterEvents: z
    .number()
    .int()
    .min(50)
    .default(2000)
    .describe('Between batches, continue as new once the history has this many events'),
});

export type RolloutPlan = z.input<typeof rolloutPlanSchema>;
export type ParsedPlan = z.output<typeof rolloutPlanSchema>;
export type Stage = z.output<typeof stageSchema>;
export type StagePlan = z.input<typeof stageSchema>;

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
  action: ResumeRequest['action'] | 'pause';
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
  | { kind: 'pause'; since: string; by?: string };

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
