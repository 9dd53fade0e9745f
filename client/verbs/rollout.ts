import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { environmentOf } from '../../core/config/parse';
import { workflowIds } from '../../core/domain/constants';
import { InputError } from '../../core/domain/errors';
import { rolloutPlanSchema, type Approval, type Decision, type RolloutPlan, type RolloutProgress } from '../../core/domain/plan';
import { parseRequest, type DeployStatus } from '../../core/domain/requests';
import { rollbackTarget, type LastChange } from '../../core/domain/rollback';
import { deployReport, hostLine, nextStep, preflightReport, rolloutReport, type Out } from '../progress';
import { rolloutPlan, type RolloutFlags } from '../requests';
import { activeFreeze, outcome, startOrAttach, withClient as withTemporal } from '../temporal';
import { loadConfig, type GlobalOptions, type VerbContext } from './common';

export interface RolloutOptions extends GlobalOptions, RolloutFlags {
  planFile?: string;
  printPlan?: boolean;
  /** Keep following while the rollout waits for a person, instead of returning. */
  wait?: boolean;
}

/** The OS user: who starts, approves or decides, unless `--by` says otherwise. */
const whoami = (): string => userInfo().username;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const withClient = <T>(ctx: VerbContext, fn: (client: Client) => Promise<T>): Promise<T> => withTemporal(ctx.env, fn);

/** The plan from `--plan-file` (validated like the workflow does), or from the config and flags. */
async function planOf(ctx: VerbContext, envs: string[], opts: RolloutOptions): Promise<RolloutPlan> {
  if (opts.planFile !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(opts.planFile, 'utf8'));
    } catch (err) {
      throw new InputError(`--plan-file=${opts.planFile}: ${(err as Error).message}`);
    }
    parseRequest(rolloutPlanSchema, raw, 'rollout');
    return raw as RolloutPlan;
  }
  if (opts.version === undefined) throw new InputError('rollout needs --version=V (see `ferry show releases`)');
  const config = await loadConfig(opts, ctx);
  return rolloutPlan(config, envs, { ...opts, version: opts.version }, whoami());
}

/**
 * `ferry rollout <env>... --version=V`: starts (or attaches to) the rollout and follows it. It returns while the rollout
 * waits for a person (exit 0, saying what to run next) unless `--wait`; exit 1 when it ends rejected, aborted or rolled back.
 */
export async function rolloutVerb(ctx: VerbContext, envs: string[], opts: RolloutOptions): Promise<number> {
  const plan = await planOf(ctx, envs, opts);
  if (opts.printPlan) {
    ctx.out.write(`${JSON.stringify(plan, null, 2)}\n`);
    return 0;
  }
  return startRollout(ctx, plan, opts, `rollout ${plan.version}`);
}

/** Starts (or attaches to) a rollout of `plan` under its environment lock and follows it, as `ferry rollout` does. */
async function startRollout(ctx: VerbContext, plan: RolloutPlan, opts: RolloutOptions, what: string): Promise<number> {
  const env = plan.stages[plan.stages.length - 1]!.environment;
  const id = workflowIds.environment(plan.app, env);
  return withClient(ctx, async (client) => {
    const request = `${what} to ${plan.stages.map((s) => `${s.environment} (${s.hosts.map((h) => h.name).join(' ')})`).join(', ')}`;
    const { handle, attached } = await startOrAttach(client, { workflowType: 'rollout', workflowId: id, args: [plan], request });
    if (!opts.json) ctx.out.write(`${attached ? 'attached to' : 'started'} ${id} (${request})\n`);
    const done = outcome<RolloutProgress>(handle);
    const waiting = await follow(handle, ctx.out, env, done, { untilWaiting: !opts.wait, json: opts.json });
    if (waiting) {
      if (opts.json) ctx.out.write(`${JSON.stringify(waiting)}\n`);
      else ctx.out.write(`${nextStep(waiting, env)}\n  (the rollout goes on without this command; \`ferry status ${env} --watch\` follows it)\n`);
      return 0;
    }
    const r = await done;
    const progress = r.ok ? r.result : r.report;
    if (opts.json) ctx.out.write(`${JSON.stringify(progress ?? { error: r.ok ? undefined : r.message })}\n`);
    else ctx.out.write(`${progress ? rolloutReport(progress, env) : ''}${r.ok ? '' : `\nfailed: ${r.message}`}\n`);
    return r.ok ? 0 : 1;
  });
}

/**
 * `ferry rollback <env>`: every host the environment's last change (a rollout, deploy, update or upgrade) brought to
 * its version goes back to the release it ran before: a hot downgrade where that change was a hot upgrade, else a
 * redeploy of the previous release from the store. It is a rollout under the same lock, with the environment's gates.
 * Refused while a change runs (use `ferry resume <env> --rollback`) and when the hosts ran different versions before.
 */
export async function rollbackVerb(ctx: VerbContext, env: string, opts: GlobalOptions & { wait?: boolean }): Promise<number> {
  const config = await loadConfig(opts, ctx);
  environmentOf(config, env);
  const id = workflowIds.environment(config.app, env);
  const target = await withClient(ctx, async (client) => {
    const handle = client.workflow.getHandle(id);
    const d = await handle.describe().catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) throw new InputError(`nothing to roll back: no change has run as ${id}`);
      throw err;
    });
    if (d.status.name === 'RUNNING') throw new InputError(`${id} is still running (${d.type}): decide with \`ferry resume ${env} --rollback\``);
    const r = await outcome<RolloutProgress & DeployStatus>(handle);
    const value = r.ok ? r.result : r.report;
    if (!value || !ROLLBACK_TYPES.includes(d.type as never)) {
      throw new InputError(`nothing to roll back: the last run of ${id} was ${d.type}${value ? '' : ' and left no report'}; deploy the version you want with \`ferry rollout ${env} --version=V\``);
    }
    if (d.type === 'rollout') return rollbackTarget({ type: 'rollout', progress: value });
    const type = d.type as Exclude<LastChange['type'], 'rollout'>;
    const earlier = type === 'deployRelease' || type === 'updateRelease' ? await earlierVersion(client, id, d.runId, value.version) : undefined;
    return rollbackTarget({ type, status: value }, earlier);
  });
  const plan = rolloutPlan(config, [env], { version: target.version, host: target.hosts, startDeploy: true }, whoami());
  const stage = target.hot ? { ...plan.stages[0]!, action: 'downgrade' as const } : plan.stages[0]!;
  return startRollout(ctx, { ...plan, stages: [stage] }, opts, `rollback from ${target.from} to ${target.version}${target.hot ? ' (hot downgrade)' : ''}`);
}

const ROLLBACK_TYPES: ReadonlyArray<LastChange['type']> = ['rollout', 'deployRelease', 'updateRelease', 'deployUpgrade', 'upgradeEnvironment'];

/**
 * The version the environment reached with its change before the run `runId` (a deploy or update, which records
 * nothing about what ran before): the newest other completed run of the lock, while the server still keeps it.
 */
async function earlierVersion(client: Client, id: string, runId: string, current: string): Promise<string | undefined> {
  const runs: Array<{ runId: string; type: string; start: number }> = [];
  for await (const w of client.workflow.list({ query: `WorkflowId = '${id}' AND ExecutionStatus = 'Completed'` })) {
    if (w.runId !== runId && ROLLBACK_TYPES.includes(w.type as never)) runs.push({ runId: w.runId, type: w.type, start: w.startTime.getTime() });
  }
  for (const run of runs.sort((a, b) => b.start - a.start)) {
    const r = await outcome<{ version?: string }>(client.workflow.getHandle(id, run.runId));
    const v = r.ok ? r.result.version : undefined;
    if (v !== undefined && v !== current) return v;
  }
  return undefined;
}

/**
 * Prints a line whenever a host moves to another step or the rollout starts waiting; settles when the rollout ends,
 * or, with `untilWaiting`, returns the progress as soon as it waits for a person.
 */
async function follow(
  handle: WorkflowHandle,
  out: Out,
  env: string,
  done: Promise<unknown>,
  opts: { untilWaiting: boolean; json?: boolean },
): Promise<RolloutProgress | undefined> {
  const seen = new Map<string, string>();
  let finished = false;
  let lastWait = '';
  let preflight = false;
  void done.finally(() => (finished = true)).catch(() => undefined);
  while (!finished) {
    const p = await handle.query<RolloutProgress>('progress').catch(() => undefined);
    if (p) {
      if (p.preflight && !preflight) {
        preflight = true;
        if (!opts.json) out.write(`${preflightReport(p.preflight)}\n`);
      }
      for (const s of p.stages) {
        for (const h of Object.values(s.hosts)) {
          const key = `${s.environment}/${h.host}`;
          if (seen.get(key) !== h.step && h.step !== 'waiting') {
            seen.set(key, h.step);
            if (!opts.json) out.write(`${hostLine({ host: `${s.environment} ${h.host}`, step: h.step === 'health' || h.step === 'rollback' ? 'verify' : h.step === 'rolled-back' || h.step === 'skipped' ? 'done' : h.step, version: h.version, error: h.error })}${h.step === 'rolled-back' || h.step === 'skipped' ? ` (${h.step})` : ''}\n`);
          }
        }
      }
      if (p.waiting && (p.waiting.kind === 'approval' || p.waiting.kind === 'operator') && opts.untilWaiting) return p;
      const wait = p.waiting ? `${p.waiting.kind}${p.waiting.since}` : '';
      if (wait !== lastWait) {
        lastWait = wait;
        if (p.waiting && !opts.json) out.write(`  ${nextStep(p, env)}\n`);
      }
    }
    await Promise.race([sleep(500), done.catch(() => undefined)]);
  }
  return undefined;
}

/** The rollout (or deploy) holding the environment lock of `env`. */
async function lockHolder(ctx: VerbContext, opts: GlobalOptions, env: string) {
  const config = await loadConfig(opts, ctx);
  environmentOf(config, env);
  return workflowIds.environment(config.app, env);
}

/** Sends an update; a refusal by the workflow's validator, or no rollout at all, is an InputError: nothing changed. */
async function update<T>(ctx: VerbContext, opts: GlobalOptions, env: string, name: string, arg: object): Promise<T> {
  const id = await lockHolder(ctx, opts, env);
  return withClient(ctx, async (client) => {
    try {
      return await client.workflow.getHandle(id).executeUpdate<T, [object]>(name, { args: [arg] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw new InputError(`${name} refused: ${err.cause?.message ?? err.message}`);
      if (err instanceof WorkflowNotFoundError) throw new InputError(`no rollout is running as ${id}`);
      throw new InputError(`${name} ${id}: ${(err as Error).message}`);
    }
  });
}

/** `ferry approve|reject <env> [--comment=...] [--by=NAME]`: answers the approval gate the rollout waits at. */
export async function approvalVerb(ctx: VerbContext, name: 'approve' | 'reject', env: string, opts: GlobalOptions & { comment?: string; by?: string }): Promise<number> {
  const a = await update<Approval>(ctx, opts, env, name, { by: opts.by ?? whoami(), ...(opts.comment ? { comment: opts.comment } : {}) });
  ctx.out.write(opts.json ? `${JSON.stringify(a)}\n` : `${a.decision} (${a.gate}) by ${a.by} at ${a.at}\n`);
  return 0;
}

export interface ResumeOptions extends GlobalOptions {
  retry?: boolean;
  skip?: boolean;
  rollback?: boolean;
  abort?: boolean;
  host?: string;
  by?: string;
}

/** `ferry resume <env> --retry|--skip|--rollback|--abort [--host=H]`, or without a decision: go on after `ferry pause`. */
export async function resumeVerb(ctx: VerbContext, env: string, opts: ResumeOptions): Promise<number> {
  const given = (['retry', 'skip', 'rollback', 'abort'] as const).filter((k) => opts[k]);
  if (given.length > 1) throw new InputError(`give only one of --retry, --skip, --rollback and --abort (got ${given.map((g) => `--${g}`).join(', ')})`);
  const action = given[0] ?? 'continue';
  if (action === 'continue' && opts.host !== undefined) throw new InputError('--host goes with --retry, --skip or --rollback');
  const d = await update<Decision>(ctx, opts, env, 'resume', { action, by: opts.by ?? whoami(), ...(opts.host ? { host: opts.host } : {}) });
  ctx.out.write(opts.json ? `${JSON.stringify(d)}\n` : `${d.action}${d.host ? ` ${d.host}` : ''} recorded by ${d.by} at ${d.at}\n`);
  return 0;
}

/** `ferry pause <env>`: the rollout stops before its next batch. */
export async function pauseVerb(ctx: VerbContext, env: string, opts: GlobalOptions & { by?: string }): Promise<number> {
  const d = await update<Decision>(ctx, opts, env, 'pause', { by: opts.by ?? whoami() });
  ctx.out.write(opts.json ? `${JSON.stringify(d)}\n` : `paused by ${d.by} at ${d.at}: the rollout stops before its next batch; \`ferry resume ${env}\` goes on\n`);
  return 0;
}

/** `ferry promote <env> [--by=NAME]`: ends the bake the rollout waits in; refused (exit 2) when nothing bakes. */
export async function promoteVerb(ctx: VerbContext, env: string, opts: GlobalOptions & { by?: string }): Promise<number> {
  const d = await update<Decision>(ctx, opts, env, 'promote', { by: opts.by ?? whoami() });
  ctx.out.write(opts.json ? `${JSON.stringify(d)}\n` : `promoted by ${d.by} at ${d.at}: the bake ends and the rollout goes on\n`);
  return 0;
}

/**
 * `ferry status <env> [--watch] [--json]`: the rollout or deploy holding the environment. `--watch` redraws until it
 * ends (in a terminal) or prints a line per change; with `--json`, one JSON document per change.
 */
export async function statusVerb(ctx: VerbContext, env: string, opts: GlobalOptions & { watch?: boolean }): Promise<number> {
  const id = await lockHolder(ctx, opts, env);
  return withClient(ctx, async (client) => {
    const handle = client.workflow.getHandle(id);
    const freeze = await activeFreeze(client, id);
    if (freeze && !opts.json) ctx.out.write(`${env} is frozen by ${freeze.by} since ${freeze.at}: ${freeze.reason} (\`ferry unfreeze ${env}\` lifts it)\n`);
    const first = await handle.describe().catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) throw new InputError(`nothing has run as ${id} yet`);
      throw err;
    });
    const isRollout = first.type === 'rollout';
    const render = (p: RolloutProgress | DeployStatus) =>
      opts.json ? JSON.stringify(p) : isRollout ? rolloutReport(p as RolloutProgress, env) : deployReport(p as DeployStatus);
    let last = '';
    for (;;) {
      const d = await handle.describe();
      const running = d.status.name === 'RUNNING';
      const p = running
        ? await handle.query<RolloutProgress | DeployStatus>(isRollout ? 'progress' : 'status')
        : await outcome<RolloutProgress | DeployStatus>(handle).then((r) => (r.ok ? r.result : r.report));
      const text = p ? render(p) : opts.json ? JSON.stringify({ status: d.status.name }) : `${id}: ${d.status.name.toLowerCase()}`;
      if (text !== last) {
        if (opts.watch && ctx.out.isTTY && !opts.json) ctx.out.write('\x1b[H\x1b[2J');
        ctx.out.write(`${opts.json ? '' : `${id} (${d.type}, ${d.status.name.toLowerCase()})\n`}${text}\n`);
        last = text;
      }
      if (!opts.watch || !running) return d.status.name === 'FAILED' ? 1 : 0;
      await sleep(1000);
    }
  });
}
