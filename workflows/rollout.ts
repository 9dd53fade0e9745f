import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  executeChild,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, Notification, OnHost } from '../activities';
import { workflowIds } from '../core/domain/constants';
import { NON_RETRYABLE } from '../core/domain/errors';
import { LIMITS } from '../core/domain/limits';
import { nodeLabel, type HostTarget } from '../core/domain/host';
import {
  planBatches,
  withinFailureLimit,
  rolloutPlanSchema,
  type Approval,
  type ApprovalRequest,
  type Decision,
  type ParsedPlan,
  type ResumeRequest,
  type RolloutHost,
  type RolloutPlan,
  type RolloutProgress,
  type Stage,
} from '../core/domain/plan';
import type { StoredRelease } from '../core/domain/release';
import type { HostProgress } from '../core/domain/requests';
import { boundedEach, EVENTS_PER_STEP, historyFull } from './bounded';
import { packProgress, unpackProgress, type PackedHosts } from './carry';
import { failedStep, failureMessage, validInput } from './failures';
import { hostDeploy } from './host-deploy';
import { runBake } from './bake';
import { downgradeHost, upgradeBack } from './downgrade';
import { notify } from './notify';
import { waitForWindow } from './windows';
import { hostUpgrade } from './host-upgrade';
import { migrationStep } from './migrate';
import { restartNote, runPreflight } from './preflight';
import {
  approveSignal,
  approveUpdate,
  hostProgressSignal,
  pauseSignal,
  pauseUpdate,
  progressQuery,
  freezeSignal,
  promoteSignal,
  promoteUpdate,
  unfreezeSignal,
  rejectSignal,
  rejectUpdate,
  resumeSignal,
  resumeUpdate,
} from './messages';
import { LOCAL, SSH_STEP, VERIFY } from './policies';
import { setSearch } from './search';

const local = proxyActivities<Activities>(LOCAL);
const ssh = proxyActivities<Activities>(SSH_STEP);
const verify = proxyActivities<Activities>(VERIFY);
/** A downgrade runs once per rollback: the node is verified afterwards either way. */
const script = proxyActivities<Activities>({ ...SSH_STEP, startToCloseTimeout: '6m', retry: { maximumAttempts: 1 } });

/**
 * A health probe's tries, interval and timeout, as an activity retry policy. Durations in milliseconds: a string such
 * as `1e-7s` is no duration the SDK reads, and the workflow task would fail on it again and again.
 */
const probe = (p: { retries: number; intervalSeconds: number; timeoutSeconds: number }) =>
  proxyActivities<Activities>({
    startToCloseTimeout: (p.timeoutSeconds + 30) * 1000,
    heartbeatTimeout: '20s',
    retry: { initialInterval: p.intervalSeconds * 1000, backoffCoefficient: 1, maximumAttempts: p.retries + 1, nonRetryableErrorTypes: [...NON_RETRYABLE] },
  });

/** One try of a bake's Erlang check, with a second try 5 s later: a bake round is not the place for long retries. */
const BAKE_EVAL = { retries: 1, intervalSeconds: 5, timeoutSeconds: 60 };

/** What a rollout hands to its next run when it continues as new: its progress and where to go on. */
export interface RolloutCarry {
  progress: RolloutProgress;
  /** The release deploy stages install, and the upgrade upgrade stages apply; looked up once, in the first run. */
  release?: StoredRelease;
  upgrade?: StoredRelease;
  at: { stage: number; batch: number };
  /** A pause asked for while the run ended; the next run honours it before its first batch. */
  paused?: boolean;
  /**
   * Set when the run ended within a batch (bounded fan-out, docs/scale.md): the batch's hosts not yet started, or
   * the rollback or retry under way, go on in the next run; the stage's migrations and gates are not run again.
   */
  within?: Within;
  /** The hosts of `progress`, packed (bounded runs); `progress.stages` then holds no hosts (workflows/carry.ts). */
  packed?: PackedHosts;
}

/** What a run that ended within a batch was doing: the batch itself, a failure policy's rollback, or an operator's decision. */
export type Within = { work: 'batch' } | { work: 'policy' } | { work: 'retry'; hosts: string[] } | { work: 'rollback'; message: string };

/**
 * Why a signal's or update's text field is refused, if it is: anything but a string (an object whose `toString` is
 * not a function would throw in a template and fail the workflow task for ever), or a string past `max`.
 */
const textRefusal = (value: unknown, field: string, max: number): string | undefined =>
  value === undefined || (typeof value === 'string' && value.length <= max) ? undefined : `${field} must be text of at most ${max} characters`;
/** Who approves, rejects or decides: one line of at most 200 characters. */
const personRefusal = (by: unknown): string | undefined =>
  textRefusal(by, 'by', LIMITS.person) ?? (/[\p{Cc}]/u.test(by as string) ? 'by must be one line without control characters' : undefined);

/** Host names for a message: every one up to 20, then how many more (a 10,000-host stage's message stays short). */
const named = (hosts: ReadonlyArray<{ host: string }>): string =>
  hosts.length <= 20 ? hosts.map((h) => h.host).join(', ') : `${hosts.slice(0, 20).map((h) => h.host).join(', ')} and ${hosts.length - 20} more`;

const ACTIONS: ReadonlyArray<ResumeRequest['action']> = ['retry', 'skip', 'rollback', 'abort', 'continue'];
const FAILURE_TYPE = { rejected: 'RolloutRejected', aborted: 'RolloutAborted', 'rolled-back': 'RolloutRolledBack' } as const;

// `Date` in workflow code is the workflow clock (the time of the current task), so it replays identically.
const now = (): string => new Date().toISOString();
const clock = (): number => new Date().getTime();

/**
 * A staged rollout: for each stage in order (e.g. staging, then production), an optional approval, then the hosts in
 * batches (canary, ramp, batches), each host a hostDeploy child followed by a health check. A host that still fails
 * after its retries puts the rollout into "waiting for operator" once the stage's failure limit is exceeded; `resume`
 * decides (retry, skip, rollback, abort). Continues as new between batches before the history grows large.
 */
export async function rollout(input: RolloutPlan, carry?: RolloutCarry): Promise<RolloutProgress> {
  const plan: ParsedPlan = validInput(rolloutPlanSchema, input, 'rollout');
  // The carry is the rollout's own state, handed over by continue-as-new; a first run that names one is refused.
  if (carry !== undefined && workflowInfo().continuedFromExecutionRunId === undefined) {
    throw ApplicationFailure.nonRetryable('rollout takes one argument, the plan; the second is its own state after a continue-as-new', 'InputError');
  }
  const id = workflowInfo().workflowId;
  // Bounded fan-out: at most maxInFlight hosts at once, and continue-as-new within a batch. Recorded histories ran
  // every host of a batch at once; they replay without it.
  const bounded = patched('bounded-fan-out');
  const order = plan.stages.map((s) => s.hosts.map((h) => h.name));
  const progress: RolloutProgress = carry?.packed ? unpackProgress(carry.progress, carry.packed, initialProgress(plan), order) : (carry?.progress ?? initialProgress(plan));
  let answer: Approval | undefined;
  let decision: ResumeRequest | undefined;
  let paused = carry?.paused ?? false;

  // Handlers are registered before the first await, so no update or signal sent at start is lost.
  setHandler(progressQuery, () => progress);
  setHandler(hostProgressSignal, (p) => {
    const h = progress.stage === undefined ? undefined : progress.stages[progress.stage]?.hosts[p.host];
    // A late signal must not undo the host's outcome or the health check that follows the child.
    if (h && h.outcome === undefined && h.step !== 'health' && h.step !== 'rollback') h.step = p.step;
  });

  const approvalRefusal = (what: string, a: ApprovalRequest | undefined): string | undefined => {
    if (progress.waiting?.kind !== 'approval' || answer !== undefined) return `nothing is waiting for an approval (the rollout is ${progress.phase})`;
    if (typeof a?.by !== 'string' || a.by.trim() === '') return `say who you are: {"by": "<name>"}`;
    const bad = personRefusal(a.by) ?? textRefusal(a.comment, 'comment', 2000);
    if (bad) return bad;
    if (plan.approvers && !plan.approvers.includes(a.by)) return `${a.by} may not ${what} this rollout (approvers: ${plan.approvers.join(', ')})`;
    if (what === 'approve' && plan.forbidSelfApproval && a.by === plan.startedBy) return `${a.by} started this rollout and may not approve it`;
    return undefined;
  };
  const decide = (decisionKind: Approval['decision'], a: ApprovalRequest, via: Approval['via']): Approval => {
    const gate = progress.waiting?.kind === 'approval' ? progress.waiting.gate : '';
    answer = { gate, decision: decisionKind, by: a.by, at: now(), ...(a.comment ? { comment: String(a.comment) } : {}), via };
    progress.approvals.push(answer);
    upsertMemo({ approvals: progress.approvals });
    log.info('rollout gate answered', { gate, decision: decisionKind, by: a.by });
    return answer;
  };
  const refuse = (what: string, by: unknown, reason: string) => {
    progress.refused.push({ decision: what, by: typeof by === 'string' ? by.slice(0, LIMITS.person) : '', at: now(), reason });
    log.warn('rollout signal refused', { decision: what, reason });
  };
  for (const [update, signal, kind, what] of [
    [approveUpdate, approveSignal, 'approved', 'approve'],
    [rejectUpdate, rejectSignal, 'rejected', 'reject'],
  ] as const) {
    setHandler(update, (a) => decide(kind, a, 'update'), {
      validator: (a) => {
        const reason = approvalRefusal(what, a);
        if (reason) throw new Error(reason);
      },
    });
    setHandler(signal, (a) => {
      const reason = approvalRefusal(what, a);
      if (reason) refuse(what, a?.by, reason);
      else decide(kind, a, 'signal');
    });
  }

  const touched = (name: string) => progress.stages.some((s) => (s.hosts[name]?.attempts ?? 0) > 0);
  const resumeRefusal = (r: ResumeRequest | undefined): string | undefined => {
    if (!r || !ACTIONS.includes(r.action)) return `action must be one of ${ACTIONS.join(', ')}`;
    const bad = (r.by === undefined ? undefined : personRefusal(r.by)) ?? textRefusal(r.host, 'host', LIMITS.hostName);
    if (bad) return bad;
    if (r.action === 'continue') return paused ? undefined : 'the rollout is not paused';
    const w = progress.waiting;
    if (w?.kind !== 'operator' || decision !== undefined) return `nothing is waiting for an operator decision (the rollout is ${progress.phase})`;
    if (r.host !== undefined && r.action === 'rollback' && !touched(r.host)) return `${r.host} is not a host this rollout touched`;
    if (r.host !== undefined && (r.action === 'retry' || r.action === 'skip') && !w.hosts.includes(r.host)) {
      return `${r.host} is not a failed host (failed: ${w.hosts.join(', ')})`;
    }
    return undefined;
  };
  const record = (d: Omit<Decision, 'at'>): Decision => {
    const entry: Decision = { ...d, at: now() };
    progress.decisions.push(entry);
    log.info('rollout decision recorded', { ...entry });
    return entry;
  };
  const onResume = (r: ResumeRequest): Decision => {
    if (r.action === 'continue') paused = false;
    else decision = r;
    return record({ action: r.action, ...(r.host ? { host: r.host } : {}), ...(r.by ? { by: r.by } : {}) });
  };
  setHandler(resumeUpdate, onResume, {
    validator: (r) => {
      const reason = resumeRefusal(r);
      if (reason) throw new Error(reason);
    },
  });
  setHandler(resumeSignal, (r) => {
    const reason = resumeRefusal(r);
    if (reason) refuse(`resume ${typeof r?.action === 'string' ? r.action.slice(0, 20) : '?'}`, r?.by, reason);
    else onResume(r);
  });
  const pauseRefusal = (p: { by?: string } | undefined) => (paused ? 'the rollout is already paused' : p?.by === undefined ? undefined : personRefusal(p.by));
  const onPause = (p: { by?: string } | undefined): Decision => {
    paused = true;
    return record({ action: 'pause', ...(p?.by ? { by: p.by } : {}) });
  };
  setHandler(pauseUpdate, onPause, {
    validator: (p) => {
      const reason = pauseRefusal(p);
      if (reason) throw new Error(reason);
    },
  });
  setHandler(pauseSignal, (p) => {
    const reason = pauseRefusal(p);
    if (reason) refuse('pause', p?.by, reason);
    else onPause(p);
  });

  let promotedBy: string | undefined;
  const promoteRefusal = (p: { by?: string } | undefined) =>
    progress.waiting?.kind !== 'bake' || promotedBy !== undefined ? `nothing is baking (the rollout is ${progress.phase})` : p?.by === undefined ? undefined : personRefusal(p.by);
  const onPromote = (p: { by?: string } | undefined): Decision => {
    promotedBy = p?.by ?? 'an operator';
    return record({ action: 'promote', ...(p?.by ? { by: p.by } : {}) });
  };
  setHandler(promoteUpdate, onPromote, {
    validator: (p) => {
      const reason = promoteRefusal(p);
      if (reason) throw new Error(reason);
    },
  });
  setHandler(promoteSignal, (p) => {
    const reason = promoteRefusal(p);
    if (reason) refuse('promote', p?.by, reason);
    else onPromote(p);
  });

  // A freeze of the environment (sent by freezeEnvironment) holds the rollout before its next batch until unfreeze.
  // A run continued as new while frozen stays frozen.
  const lastFreeze = progress.freezes?.at(-1);
  let frozen = lastFreeze !== undefined && lastFreeze.unfrozenAt === undefined;
  setHandler(freezeSignal, (f) => {
    const bad = personRefusal(f?.by) ?? textRefusal(f?.reason, 'reason', 2000);
    if (bad || typeof f?.by !== 'string') return refuse('freeze', f?.by, bad ?? 'say who freezes');
    frozen = true;
    progress.freezes = [...(progress.freezes ?? []), { by: f.by, reason: String(f.reason), at: now() }];
    log.warn('rollout frozen', { by: f.by, reason: f.reason });
  });
  setHandler(unfreezeSignal, (u) => {
    const f = progress.freezes?.at(-1);
    if (!frozen || !f) return;
    frozen = false;
    Object.assign(f, { unfrozenBy: typeof u?.by === 'string' ? u.by.slice(0, LIMITS.person) : 'an operator', unfrozenAt: now() });
  });

  // Rollout events go to the worker's webhooks (NOTIFY_URLS); recorded histories predate them and replay without.
  let notifying: boolean | undefined;
  const note = async (event: Notification['event'], extra: { who?: string; detail?: string; hosts?: string[] } = {}): Promise<void> => {
    notifying ??= patched('rollout-notifications');
    if (!notifying) return;
    const si = progress.stage ?? 0;
    const hosts = extra.hosts ?? Object.keys(progress.stages[si]?.hosts ?? {});
    const from = [...new Set(hosts.map((h) => progress.stages[si]?.hosts[h]?.previousVersion).filter((v): v is string => typeof v === 'string'))];
    const info = workflowInfo();
    await notify({
      event, app: plan.app, environment: plan.stages[si]!.environment, version: plan.version, hosts,
      ...(from.length ? { fromVersions: from } : {}), ...(extra.who ?? plan.startedBy ? { who: extra.who ?? plan.startedBy } : {}),
      ...(extra.detail ? { detail: extra.detail.slice(0, 2000) } : {}), workflowId: info.workflowId, runId: info.runId,
    });
  };

  /** Ends the rollout as a failure that carries the progress (the CLI prints it as the report), after notifying. */
  const end = async (phase: keyof typeof FAILURE_TYPE, message: string, who?: string): Promise<never> => {
    progress.phase = phase;
    progress.waiting = undefined;
    upsertMemo({ outcome: phase, approvals: progress.approvals });
    setSearch({ phase: 'done', outcome: phase });
    await note(phase === 'rolled-back' ? 'rolled back' : phase, { detail: message, ...(who ? { who } : {}) });
    throw ApplicationFailure.create({ type: FAILURE_TYPE[phase], nonRetryable: true, message, details: [progress] });
  };

  const gate = async (name: string): Promise<void> => {
    if (progress.passed.includes(name)) return;
    progress.waiting = { kind: 'approval', gate: name, since: now(), ...(plan.approvers ? { approvers: plan.approvers } : {}) };
    progress.phase = 'waiting-for-approval';
    setSearch({ phase: 'waiting-for-approval' });
    await note('waiting for approval', { detail: name });
    const timeout = plan.approvalTimeoutSeconds;
    const answered = timeout === undefined ? (await condition(() => answer !== undefined), true) : await condition(() => answer !== undefined, timeout * 1000);
    progress.waiting = undefined;
    progress.phase = 'running';
    setSearch({ phase: 'deploying' });
    if (!answered) {
      progress.approvals.push({ gate: name, decision: 'rejected', by: 'timeout', at: now(), comment: `no approval within ${timeout}s`, via: 'timeout' });
      await end('rejected', `${name}: no approval within ${timeout}s`, 'timeout');
    }
    const a = answer!;
    answer = undefined;
    if (a.decision === 'rejected') await end('rejected', `${name}: rejected by ${a.by}${a.comment ? `: ${a.comment}` : ''}`, a.by);
    await note('approved', { who: a.by, detail: `${name}${a.comment ? `: ${a.comment}` : ''}` });
    progress.passed.push(name);
  };

  const uses = (action: Stage['action']) => plan.stages.some((s) => s.action === action);
  const release = carry ? carry.release : uses('deploy') ? await local.lookupRelease({ store: plan.store, app: plan.app, version: plan.version }) : undefined;
  const upgrade = carry
    ? carry.upgrade
    : uses('upgrade')
      ? await local.lookupRelease({ store: plan.store, app: plan.app, version: plan.version, type: 'upgrade', ssh: plan.ssh })
      : undefined;
  // Upgrade stages: hot, restart or refuse, decided once before any gate or host (a later run keeps the decision in
  // its progress). Recorded histories predate the preflight: they replay without it, as hot upgrades.
  if (!carry && upgrade && patched('upgrade-preflight') && runPreflight(progress, upgrade, plan.upgradeFallback).decision === 'refuse') {
    progress.phase = 'aborted';
    upsertMemo({ outcome: 'refused' });
    setSearch({ phase: 'done', outcome: 'aborted' });
    throw ApplicationFailure.create({ type: 'UpgradeRefused', nonRetryable: true, message: progress.preflight!.reason ?? 'refused', details: [progress] });
  }
  const restart = progress.preflight?.decision === 'restart';
  const onHost = (host: HostTarget): OnHost => ({ host, app: plan.app, ssh: plan.ssh });

  /**
   * The action on one host: a hostDeploy child, or a hostUpgrade child for a hot upgrade (a hostDeploy child that
   * restarts the node onto the upgrade's release when the preflight decided so).
   */
  const hostAction = async (stage: Stage, host: HostTarget, attempt: number): Promise<HostProgress> => {
    const node = stage.node ? { node: stage.node } : {};
    switch (stage.action) {
      case 'deploy':
        return executeChild(hostDeploy, {
          workflowId: workflowIds.rolloutHost(id, host.name, `deploy-${plan.version}-${attempt}`),
          args: [{ host, app: plan.app, release: release!, store: plan.store, startDeploy: stage.startDeploy, ssh: plan.ssh, ...node, hooks: plan.hooks, environment: stage.environment }],
        });
      case 'upgrade':
        if (restart) {
          return executeChild(hostDeploy, {
            workflowId: workflowIds.rolloutHost(id, host.name, `restart-${plan.version}-${attempt}`),
            args: [{ host, app: plan.app, release: upgrade!, store: plan.store, startDeploy: true, ssh: plan.ssh, ...node, hooks: plan.hooks, environment: stage.environment, fallback: restartNote(plan.version) }],
          });
        }
        return executeChild(hostUpgrade, {
          workflowId: workflowIds.rolloutHost(id, host.name, `upgrade-${plan.version}-${attempt}`),
          args: [{ host, app: plan.app, release: upgrade!, store: plan.store, ssh: plan.ssh, hooks: plan.hooks, environment: stage.environment, ...(progress.preflight ? { upgradeFallback: plan.upgradeFallback, ...node } : {}) }],
        });
      case 'downgrade':
        return downgradeHost(onHost(host), plan.version);
    }
  };

  /** Ping and version, then the stage's optional command on the host and HTTP probe from the worker, each with its tries. */
  const healthCheck = async (stage: Stage, host: HostTarget): Promise<void> => {
    if (stage.healthCheck) {
      const s = await ssh.nodeState(onHost(host));
      if (!s.running) throw ApplicationFailure.nonRetryable(`${host.name}: ${nodeLabel(host)} does not answer ping`, 'HealthCheckFailed');
      if (s.version !== plan.version) {
        throw ApplicationFailure.nonRetryable(`${host.name}: node runs ${s.version ?? 'an unknown version'}, expected ${plan.version}`, 'HealthCheckFailed');
      }
    }
    const c = stage.healthCommand;
    if (c) await probe(c).healthCommand({ ...onHost(host), command: c.command, timeoutSeconds: c.timeoutSeconds });
    const http = stage.healthHttp;
    if (http) await probe(http).probeHttp({ host, url: http.url, expectStatus: http.expectStatus, timeoutSeconds: http.timeoutSeconds });
  };

  /** Deploys one host and checks its health; records the outcome instead of throwing. */
  const runHost = async (si: number, host: HostTarget): Promise<void> => {
    const stage = plan.stages[si]!;
    const h = progress.stages[si]!.hosts[host.name]!;
    const started = clock();
    Object.assign(h, { attempts: h.attempts + 1, startedAt: now(), step: 'upload', outcome: undefined, error: undefined, fallback: undefined });
    try {
      if (h.previousVersion === undefined) {
        const before = await ssh.nodeState(onHost(host));
        h.previousVersion = before.running ? (before.version ?? null) : null;
      }
      const done = await hostAction(stage, host, h.attempts);
      if (done.fallback) h.fallback = done.fallback;
      if (stage.startDeploy || stage.action !== 'deploy') {
        h.step = 'health';
        await healthCheck(stage, host);
      }
      Object.assign(h, { step: 'done', outcome: 'ok', version: plan.version });
    } catch (err) {
      // The child's failure names the step it failed at (host children no longer signal each step).
      const step = (h.step === 'upload' && failedStep<RolloutHost['step']>(err)) || h.step;
      Object.assign(h, { step: 'failed', outcome: 'failed', error: `${step}: ${failureMessage(err)}` });
      log.error('rollout host failed', { host: host.name, error: h.error });
    } finally {
      h.durationMs = clock() - started;
    }
  };

  const releases = new Map<string, Promise<StoredRelease>>();
  /** The stored release of a previous version; looked up once per run when bounded (a rollback of 2,000 hosts needs one). */
  const previousRelease = (version: string): Promise<StoredRelease> => {
    const lookup = () => local.lookupRelease({ store: plan.store, app: plan.app, version });
    if (!bounded) return lookup();
    if (!releases.has(version)) releases.set(version, lookup());
    return releases.get(version)!;
  };

  /**
   * Goes back to the version the node ran before this rollout (a downgrade after a hot upgrade); stops the node when
   * none ran. A failed host rolled back by the stage's failure policy stays failed: it still counts against the limit.
   */
  const rollbackHost = async (si: number, host: HostTarget, byPolicy = false): Promise<void> => {
    const h = progress.stages[si]!.hosts[host.name]!;
    const previous = h.previousVersion;
    const failed = byPolicy && h.outcome === 'failed';
    h.step = 'rollback';
    try {
      // A host restarted onto the upgrade's release cannot be downgraded hot: it is redeployed like a deploy stage's.
      if (previous && plan.stages[si]!.action === 'downgrade') {
        await upgradeBack(onHost(host), previous);
      } else if (previous && plan.stages[si]!.action === 'upgrade' && h.fallback === undefined) {
        const current = await ssh.nodeState(onHost(host));
        // A failed hot upgrade downgrades the node itself; only a node on another version is downgraded here.
        if (current.version !== previous) {
          await script.downgradeNode({ ...onHost(host), version: previous });
          await verify.verifyNode({ ...onHost(host), version: previous });
        }
      } else if (previous) {
        const old = await previousRelease(previous);
        await executeChild(hostDeploy, {
          workflowId: workflowIds.rolloutHost(id, host.name, `rollback-${previous}-${progress.decisions.length}`),
          args: [{ host, app: plan.app, release: old, store: plan.store, startDeploy: true, ssh: plan.ssh, ...(plan.stages[si]!.node ? { node: plan.stages[si]!.node } : {}), hooks: plan.hooks, environment: plan.stages[si]!.environment }],
        });
      } else if (previous === null) {
        await ssh.stopNode(onHost(host));
      }
      if (failed) Object.assign(h, { step: 'rolled-back', version: previous ?? undefined });
      else Object.assign(h, { step: 'rolled-back', outcome: 'rolled-back', version: previous ?? undefined, error: undefined });
    } catch (err) {
      Object.assign(h, { step: 'failed', outcome: 'failed', error: `rollback: ${failureMessage(err)}` });
    }
  };
  const index = plan.stages.map((s) => new Map(s.hosts.map((t) => [t.name, t])));
  const byName = (si: number, name: string) => index[si]!.get(name)!;
  const cap = plan.maxInFlight;

  /** Ends this run and goes on in a new one at stage `si`, batch `b`, with `within` saying what is left to do there. */
  const carryOn = async (si: number, b: number, within?: Within): Promise<never> => {
    // Updates in flight must finish first, or their callers would see the run end under them.
    await condition(allHandlersFinished);
    progress.runs++;
    const next = bounded ? packProgress(progress, order) : { progress };
    return continueAsNew<typeof rollout>(input, { ...next, release, upgrade, at: { stage: si, batch: b }, paused, ...(within ? { within } : {}) });
  };
  /**
   * Runs `fn` over `items`: all at once in recorded histories; otherwise at most `cap` at a time, and when the run's
   * history is full, continues as new with `within` (the items not started are found again from the progress, or
   * carried in `within`).
   */
  const fanOut = async <T>(items: readonly T[], steps: number, fn: (item: T) => Promise<void>, si: number, b: number, within: (left: T[]) => Within): Promise<void> => {
    if (!bounded) {
      await Promise.all(items.map(fn));
      return;
    }
    const left = await boundedEach(items, cap, steps * EVENTS_PER_STEP, fn);
    if (left.length > 0) await carryOn(si, b, within(left));
  };
  /** Steps one host of a stage runs in the parent: the version before, the child, the health checks. */
  const hostSteps = (s: Stage) => 2 + (s.healthCheck ? 1 : 0) + (s.healthCommand ? 1 : 0) + (s.healthHttp ? 1 : 0);
  /** A rollback: the previous release's look-up and a child, or the node's state, a downgrade and a verification. */
  const ROLLBACK_STEPS = 3;

  /**
   * While the stage has more failed hosts than it tolerates: applies its failure policy (a rollback of the batch or
   * the stage, once per failure), then ends or waits for operator decisions.
   */
  const settleFailures = async (si: number, b: number, resume?: Within): Promise<void> => {
    const stage = plan.stages[si]!;
    let applied = false;
    // What the run before this one was doing when it continued as new: done first (the decision was recorded then).
    let carried = resume;
    const retry = async (names: string[]) => fanOut(names, hostSteps(stage), (n) => runHost(si, byName(si, n)), si, b, (left) => ({ work: 'retry', hosts: left }));
    const rollbackAll = async (message: string): Promise<never> => {
      const touched = progress.stages.flatMap((s, i) => Object.values(s.hosts).filter((h) => h.attempts > 0).map((h) => [i, h] as const));
      await fanOut(
        touched,
        ROLLBACK_STEPS,
        async ([i, h]) => {
          // A host the failure policy rolled back already is not touched again.
          if (h.step === 'rolled-back') Object.assign(h, { outcome: 'rolled-back', error: undefined });
          else await rollbackHost(i, byName(i, h.host));
        },
        si,
        b,
        () => ({ work: 'rollback', message }),
      );
      return end('rolled-back', message);
    };
    for (;;) {
      if (carried?.work === 'retry') {
        const names = carried.hosts;
        carried = undefined;
        await retry(names);
      } else if (carried?.work === 'rollback') await rollbackAll(carried.message);
      const all = Object.values(progress.stages[si]!.hosts);
      const failed = all.filter((h) => h.outcome === 'failed');
      if (withinFailureLimit(stage, all.length, failed.length)) return;
      if (stage.onFailure !== 'halt' && !applied) {
        applied = true;
        const back = all.filter((h) => h.attempts > 0 && h.step !== 'rolled-back' && h.outcome !== 'skipped' && (stage.onFailure === 'rollback-stage' || h.batch === b));
        if (carried?.work !== 'policy') record({ action: 'rollback', by: `policy ${stage.onFailure}` });
        carried = undefined;
        log.warn('rollout failure policy rolls back', { stage: stage.environment, policy: stage.onFailure, hosts: back.length > 20 ? back.length : back.map((h) => h.host) });
        await fanOut(back, ROLLBACK_STEPS, (h) => rollbackHost(si, byName(si, h.host), true), si, b, () => ({ work: 'policy' }));
        if (stage.afterRollback === 'end') {
          await end('rolled-back', `${stage.environment}: ${named(failed)} failed (${failed[0]!.error ?? ''}); ${stage.onFailure} rolled back ${named(back)}`);
        }
      }
      progress.waiting = { kind: 'operator', stage: stage.environment, hosts: failed.map((h) => h.host), host: failed[0]!.host, error: failed[0]!.error ?? '', since: now() };
      progress.phase = 'waiting-for-operator';
      setSearch({ phase: 'waiting-for-operator' });
      log.warn('rollout waits for an operator', { stage: stage.environment, hosts: progress.waiting.hosts });
      await condition(() => decision !== undefined);
      const d = decision!;
      decision = undefined;
      progress.waiting = undefined;
      progress.phase = 'running';
      setSearch({ phase: 'deploying' });
      applied = false;
      const targets = failed.filter((h) => d.host === undefined || h.host === d.host);
      switch (d.action) {
        case 'retry': {
          // Hosts the policy rolled back with the failed ones are deployed again too.
          const again = d.host === undefined ? all.filter((h) => h.outcome === 'rolled-back') : [];
          await retry([...targets, ...again].map((h) => h.host));
          break;
        }
        case 'skip':
          for (const h of targets) Object.assign(h, { step: 'skipped', outcome: 'skipped' });
          break;
        case 'rollback':
          if (d.host !== undefined) {
            const at = progress.stages.findIndex((s) => (s.hosts[d.host!]?.attempts ?? 0) > 0);
            await rollbackHost(at, byName(at, d.host));
            break;
          }
          await rollbackAll(`rolled back by ${d.by ?? 'an operator'} after ${named(failed)} failed`);
          break;
        case 'abort':
          await end('aborted', `aborted by ${d.by ?? 'an operator'} after ${named(failed)} failed: ${failed[0]!.error ?? ''}`);
      }
    }
  };

  /**
   * The stage's bake after its canary or after its last batch: its health checks (and Erlang expression) on the hosts
   * that are ok, every interval. A failed check marks the host failed and applies the stage's failure policy.
   */
  const bakeStage = async (si: number, after: 'canary' | 'stage'): Promise<void> => {
    const stage = plan.stages[si]!;
    if (!stage.bake) return;
    const hosts = progress.stages[si]!.hosts;
    promotedBy = undefined;
    const failed = await runBake({
      progress,
      stage: stage.environment,
      after,
      bake: stage.bake,
      hosts: () => Object.values(hosts).filter((h) => h.outcome === 'ok' && (after === 'stage' || h.batch === 0)).map((h) => h.host),
      check: async (name) => {
        const host = byName(si, name);
        await healthCheck(stage, host);
        if (stage.bake?.erlang) await probe(BAKE_EVAL).healthEval({ ...onHost(host), expression: stage.bake.erlang });
      },
      promoted: () => promotedBy,
      failureMessage,
    });
    if (!failed) return;
    const h = hosts[failed.host]!;
    Object.assign(h, { step: 'failed', outcome: 'failed', error: `bake: ${failed.error}` });
    await note('bake failed', { hosts: [failed.host], detail: failed.error });
    await settleFailures(si, h.batch);
  };

  progress.phase = paused ? 'paused' : 'running';
  const from = carry?.at ?? { stage: 0, batch: 0 };
  if (!carry) await note('started');
  for (let si = from.stage; si < plan.stages.length; si++) {
    const stage = plan.stages[si]!;
    const batches = progress.stages[si]!.batches;
    progress.stage = si;
    if (stage.approveBefore) await gate(`${stage.environment}: before`);
    const migrationTarget = { app: plan.app, environment: stage.environment, hosts: stage.hosts, ssh: plan.ssh };
    if (stage.migrations?.when === 'before' && (si !== from.stage || (from.batch === 0 && !carry?.within))) progress.stages[si]!.migration = await migrationStep(stage.migrations, `${stage.environment}-before`, migrationTarget);
    for (let b = si === from.stage ? from.batch : 0; b < batches.length; b++) {
      const resumed = carry !== undefined && si === from.stage && b === from.batch;
      if (b > 0 && !resumed && stage.pauseSeconds > 0) await sleep(stage.pauseSeconds * 1000);
      if (paused) {
        const by = progress.decisions.findLast((d) => d.action === 'pause')?.by;
        progress.waiting = { kind: 'pause', since: now(), ...(by ? { by } : {}) };
        progress.phase = 'paused';
        await condition(() => !paused);
        progress.waiting = undefined;
        progress.phase = 'running';
      }
      if (frozen) {
        const f = progress.freezes!.at(-1)!;
        progress.waiting = { kind: 'freeze', by: f.by, reason: f.reason, since: now() };
        await condition(() => !frozen);
        progress.waiting = undefined;
      }
      if (stage.window) await waitForWindow(progress, stage.environment, stage.window);
      const info = workflowInfo();
      const full = bounded ? historyFull(plan.continueAsNewAfterEvents) : info.historyLength >= plan.continueAsNewAfterEvents || info.continueAsNewSuggested;
      // A pause asked for after the check above is carried over, and the next run waits before this batch.
      if (!resumed && (b > 0 || si > 0) && full) await carryOn(si, b);
      progress.batch = b;
      // A run that continued as new within this batch left the hosts it had not started yet.
      const todo = bounded ? batches[b]!.filter((n) => progress.stages[si]!.hosts[n]!.attempts === 0) : batches[b]!;
      await fanOut(todo, hostSteps(stage), (name) => runHost(si, byName(si, name)), si, b, () => ({ work: 'batch' }));
      await settleFailures(si, b, resumed ? carry?.within : undefined);
      if (b === 0 && stage.canary > 0 && batches.length > 1) await bakeStage(si, 'canary');
      if (b === 0 && stage.canary > 0 && stage.approveAfterCanary && batches.length > 1) await gate(`${stage.environment}: after canary`);
    }
    await bakeStage(si, 'stage');
    if (stage.migrations?.when === 'after') progress.stages[si]!.migration = await migrationStep(stage.migrations, `${stage.environment}-after`, migrationTarget);
    await note('stage done');
  }
  progress.phase = 'done';
  progress.batch = undefined;
  upsertMemo({ outcome: 'done', approvals: progress.approvals });
  setSearch({ phase: 'done', outcome: 'succeeded' });
  await note('succeeded');
  await condition(allHandlersFinished);
  return progress;
}

function initialProgress(plan: ParsedPlan): RolloutProgress {
  return {
    app: plan.app,
    version: plan.version,
    phase: 'running',
    ...(plan.startedBy ? { startedBy: plan.startedBy } : {}),
    stages: plan.stages.map((s) => {
      const batches = planBatches(s.hosts.map((h) => h.name), s);
      const hosts: Record<string, RolloutHost> = {};
      batches.forEach((names, batch) => names.forEach((host) => (hosts[host] = { host, batch, step: 'waiting', attempts: 0 })));
      return { environment: s.environment, batches, hosts };
    }),
    approvals: [],
    refused: [],
    decisions: [],
    passed: [],
    runs: 0,
  };
}
