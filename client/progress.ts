import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { workflowIds } from '../core/domain/constants';
import type { RolloutHostStep, RolloutProgress } from '../core/domain/plan';
import type { Preflight } from '../core/domain/preflight';
import type { DeployStatus, HostProgress, NodeCommandResult } from '../core/domain/requests';

/** Human output: per-host lines on stdout. Logs never go here. */
export interface Out {
  write(text: string): void;
  isTTY?: boolean;
}

/** Hosts in flight whose child a deploy's live view asks for its step on each poll. */
const LIVE_HOSTS = 20;
const FINAL: ReadonlySet<HostProgress['step']> = new Set(['done', 'skipped', 'failed']);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const STEP_ICON: Record<HostProgress['step'], string> = {
  waiting: '·', check: '?', upload: '↑', unpack: '▸', configure: '⚙', start: '▶', upgrade: '⇑', verify: '?', downgrade: '⇓', done: '✓', skipped: '=', failed: '✗',
};

/** How each transfer mode reads in the per-host line. */
const VIA: Record<NonNullable<HostProgress['via']>, string> = {
  'presigned-url': 'presigned URL, fetched by the host',
  'store-host': 'the store host, through the worker',
  worker: 'the worker',
};

/** One line per host: icon, name, step, and the version (with how the tarball came) or the error. */
export function hostLine(h: HostProgress): string {
  const sent = h.sent === false ? ' (already uploaded)' : h.via ? ` (via ${VIA[h.via]})` : '';
  const pid = h.pid !== undefined ? ` (pid ${h.pid})` : '';
  const detail =
    h.step === 'failed'
      ? h.error ?? ''
      : h.step === 'done'
        ? `${h.version ?? ''}${pid}${sent}`.trim()
        : h.step === 'skipped'
          ? `already on ${h.version ?? '?'}${pid}`
          : '';
  const fallback = h.fallback && (h.step === 'done' || h.step === 'failed') ? `\n      ${h.fallback}` : '';
  return `${`  ${STEP_ICON[h.step]} ${h.host.padEnd(22)} ${h.step.padEnd(9)} ${detail}`.trimEnd()}${fallback}`;
}

const DECISION: Record<Preflight['decision'], string> = {
  hot: 'hot upgrade',
  restart: 'rolling restart onto the new release',
  refuse: 'refused: no node is touched',
};

/**
 * The preflight of an upgrade: the decision, then per application its versions and appup, each risk, and why the
 * upgrade is not simply hot. Unchanged applications are counted, not listed.
 */
export function preflightReport(p: Preflight): string {
  const lines = [`preflight: ${DECISION[p.decision]}${p.decision === 'hot' ? '' : ` (UPGRADE_FALLBACK=${p.policy})`}`];
  const plan = p.plan;
  if (plan) {
    lines[0] = `preflight ${plan.from} → ${plan.to}: ${lines[0]!.slice('preflight: '.length)}`;
    if (plan.erts.from !== plan.erts.to) lines.push(`  erts ${plan.erts.from} → ${plan.erts.to}`);
    for (const a of plan.apps.filter((x) => x.change !== 'unchanged')) {
      const versions = a.change === 'added' ? `added ${a.to ?? ''}` : a.change === 'removed' ? `removed ${a.from ?? ''}` : `${a.from ?? '?'} → ${a.to ?? '?'}`;
      lines.push(`  ${a.app.padEnd(20)} ${versions}${a.appup ? `  (appup: ${a.appup === 'application' ? "the application's own" : 'generated'})` : ''}`);
    }
    const same = plan.apps.filter((x) => x.change === 'unchanged').length;
    if (same > 0) lines.push(`  (${same} application${same === 1 ? '' : 's'} unchanged)`);
    for (const r of plan.risks) lines.push(`  ${r.severity === 'restart' ? '!' : '·'} ${r.severity} ${r.kind}${r.app ? ` ${r.app}` : ''}${r.module ? `/${r.module}` : ''}: ${r.message}`);
    if (plan.risks.length === 0) lines.push('  no risk found');
  }
  if (p.reason) lines.push(`  ${p.reason}`);
  return lines.join('\n');
}

/** Follows a deploy through its `status` query, printing a line whenever a host moves to another step, until `done` settles. */
export async function followDeploy(handle: WorkflowHandle, out: Out, done: Promise<unknown>): Promise<void> {
  const seen = new Map<string, string>();
  let finished = false;
  let preflight = false;
  void done.finally(() => (finished = true)).catch(() => undefined);
  while (!finished) {
    const status = await handle.query<DeployStatus>('status').catch(() => undefined);
    if (status?.preflight && !preflight) {
      preflight = true;
      out.write(`${preflightReport(status.preflight)}\n`);
    }
    const hosts = Object.values(status?.hosts ?? {});
    // The children answer with their own step (they no longer signal each step to the parent); a few at a time.
    const live = hosts.filter((h) => !FINAL.has(h.step) && h.step !== 'waiting').slice(0, LIVE_HOSTS);
    const steps = await Promise.all(
      live.map((h) => handle.client.getHandle(workflowIds.hostDeploy(handle.workflowId, h.host)).query<HostProgress>('hostStatus').catch(() => h)),
    );
    const fresh = new Map(steps.map((h) => [h.host, h]));
    for (const h of hosts.map((x) => fresh.get(x.host) ?? x)) {
      const key = `${h.step}`;
      if (seen.get(h.host) !== key && h.step !== 'done' && h.step !== 'skipped' && h.step !== 'failed' && h.step !== 'waiting') {
        seen.set(h.host, key);
        out.write(`${hostLine(h)}\n`);
      }
    }
    await Promise.race([sleep(300), done.catch(() => undefined)]);
  }
}

/** The final per-host report of a deploy. */
export function deployReport(s: DeployStatus): string {
  const hosts = Object.values(s.hosts);
  const failed = hosts.filter((h) => h.step === 'failed').length;
  const outcome = s.preflight?.decision === 'refuse' ? 'refused, no host touched' : failed === 0 ? `${hosts.length} hosts ok` : `${failed} of ${hosts.length} hosts failed`;
  return [
    `${s.app} ${s.fromVersion ? `${s.fromVersion} → ` : ''}${s.version} → ${s.environment}: ${outcome}`,
    ...(s.preflight && s.preflight.decision !== 'hot' ? [`  ${DECISION[s.preflight.decision]}: ${s.preflight.reason ?? ''}`] : []),
    ...hosts.map(hostLine),
  ].join('\n');
}

/** The per-host report of a node command. */
export function nodeReport(r: NodeCommandResult): string {
  if (r.command === 'cluster') return clusterReport(r);
  return [
    `${r.command} ${r.environment}: ${r.failed === 0 ? `${r.hosts.length} hosts ok` : `${r.failed} of ${r.hosts.length} hosts failed`}`,
    ...r.hosts.map((h) => {
      const what = h.ok ? (r.command === 'ping' ? 'pong' : r.command === 'version' ? h.version ?? '' : `${h.action ?? 'ok'}${h.version ? ` ${h.version}` : ''}`) : h.error ?? 'failed';
      return `  ${h.ok ? '✓' : '✗'} ${h.host.padEnd(22)} ${what}`;
    }),
  ].join('\n');
}

/** `ferry ping <env> --cluster`: one row per node, what it sees and what it misses. */
export function clusterReport(r: NodeCommandResult): string {
  const width = Math.max(4, ...r.hosts.map((h) => (h.node ?? h.host).length));
  return [
    `cluster ${r.environment}: ${r.failed === 0 ? `${r.hosts.length} nodes, every link up` : `${r.failed} of ${r.hosts.length} nodes miss links or are down`}`,
    `    ${'node'.padEnd(width)}  sees`,
    ...r.hosts.map((h) => {
      const sees = h.sees ? (h.sees.length > 0 ? h.sees.join(', ') : '(none)') : '';
      const missing = h.missing && h.missing.length > 0 ? `   MISSING ${h.missing.join(', ')}` : '';
      // A node that fails without missing a link (e.g. another host's node has its name) says why after what it sees.
      const what = h.sees ? `${sees}${missing}${!h.ok && !missing && h.error ? `   ${h.error}` : ''}` : h.error ?? 'failed';
      return `  ${h.ok ? '✓' : '✗'} ${(h.node ?? h.host).padEnd(width)}  ${what}`;
    }),
  ].join('\n');
}

/** Prefixes each line of build output, so it stands apart from Ferry's own lines. */
const indent = (text: string): string =>
  text
    .split('\n')
    .map((l, i, all) => (i === all.length - 1 && l === '' ? '' : `    | ${l}\n`))
    .join('');

/** Build output seen so far by `followBuild`: how many characters of it were printed. */
export interface BuildLog {
  printed: number;
}

/**
 * Follows a build: prints each step as it starts and, with `verbose`, the build output that the compile step
 * heartbeats (its tail, once a second). `printRest` prints what the last heartbeat did not carry.
 */
export async function followBuild(handle: WorkflowHandle, out: Out, done: Promise<unknown>, verbose: boolean, log: BuildLog = { printed: 0 }): Promise<void> {
  let finished = false;
  void done.finally(() => (finished = true)).catch(() => undefined);
  let lastStep = '';
  while (!finished) {
    const d = await handle.describe().catch(() => undefined);
    for (const a of d?.raw.pendingActivities ?? []) {
      const step = a.activityType?.name ?? '';
      if (step && step !== lastStep) {
        lastStep = step;
        out.write(`  ▸ ${STEP_LABEL[step] ?? step}\n`);
      }
      const payload = a.heartbeatDetails?.payloads?.[0];
      if (verbose && payload) {
        const beat = defaultPayloadConverter.fromPayload<{ seq?: number; output?: string }>(payload);
        if (beat?.seq !== undefined && beat.output !== undefined) printRest(out, log, { tail: beat.output, length: beat.seq });
      }
    }
    await Promise.race([sleep(500), done.catch(() => undefined)]);
  }
}

/** Prints the part of the build output that `log` has not printed yet (as much of it as `output.tail` holds). */
export function printRest(out: Out, log: BuildLog, output: { tail: string; length: number }): void {
  if (output.length <= log.printed) return;
  const fresh = output.tail.slice(-Math.min(output.length - log.printed, output.tail.length));
  out.write(indent(fresh.endsWith('\n') ? fresh : `${fresh}\n`));
  log.printed = output.length;
}

const STEP_LABEL: Record<string, string> = {
  resolveRevision: 'resolving the revision',
  pushSource: 'pushing sources to the build host',
  compileRelease: 'building the release on the build host',
  fetchRelease: 'copying the release into the store',
  readVersionAt: 'reading the versions',
  lookupRelease: 'looking up the old release in the store',
  findRelease: 'looking up the old release in the store',
  makeRelup: 'making the relup on the build host',
};

const ROLLOUT_ICON: Record<RolloutHostStep, string> = { ...STEP_ICON, health: '♥', rollback: '↺', 'rolled-back': '↺', skipped: '–' };

/** What a person can do next about a rollout that waits, as commands. */
export function nextStep(p: RolloutProgress, env: string): string | undefined {
  switch (p.waiting?.kind) {
    case 'approval':
      return `waiting for approval (${p.waiting.gate}) since ${p.waiting.since}: \`ferry approve ${env} [--comment=...]\` or \`ferry reject ${env}\``;
    case 'operator':
      return `waiting for an operator since ${p.waiting.since}: ${p.waiting.host} failed: ${p.waiting.error}\n  decide with \`ferry resume ${env} --retry|--skip|--rollback|--abort [--host=H]\``;
    case 'pause':
      return `paused since ${p.waiting.since}${p.waiting.by ? ` by ${p.waiting.by}` : ''}: \`ferry resume ${env}\` goes on`;
    case 'freeze':
      return `held by a freeze since ${p.waiting.since} (by ${p.waiting.by}: ${p.waiting.reason}): \`ferry unfreeze ${env}\` lets it go on`;
    case 'window':
      return `waiting for the deploy window of ${p.waiting.stage} (${p.waiting.window}) since ${p.waiting.since}: it opens at ${p.waiting.opensAt}`;
    case 'bake':
      return `baking ${p.waiting.stage}${p.waiting.after === 'canary' ? ' (canary)' : ''} since ${p.waiting.since} until ${p.waiting.until}: \`ferry promote ${env}\` ends it now`;
    default:
      return undefined;
  }
}

/** The whole rollout: phase, position, one line per host per stage, approvals, refusals, and what to do next. */
export function rolloutReport(p: RolloutProgress, env: string): string {
  const stage = p.stage === undefined ? undefined : p.stages[p.stage];
  const where = stage && p.batch !== undefined ? `, stage ${p.stage! + 1}/${p.stages.length} (${stage.environment}), batch ${p.batch + 1}/${stage.batches.length}` : '';
  const lines = [`${p.app} ${p.version} rollout: ${p.phase}${where}`];
  if (p.preflight && p.preflight.decision !== 'hot') lines.push(`  ${DECISION[p.preflight.decision]}: ${p.preflight.reason ?? ''}`);
  for (const s of p.stages) {
    lines.push(`  ${s.environment}`);
    for (const h of Object.values(s.hosts)) {
      const detail = h.error ?? [h.version, h.durationMs !== undefined ? `${(h.durationMs / 1000).toFixed(1)}s` : '', h.attempts > 1 ? `${h.attempts} attempts` : ''].filter(Boolean).join('  ');
      lines.push(`    ${ROLLOUT_ICON[h.step]} ${h.host.padEnd(22)} batch ${h.batch + 1}  ${h.step.padEnd(11)} ${detail}`.trimEnd());
      if (h.fallback) lines.push(`        ${h.fallback}`);
    }
  }
  for (const b of p.bakes ?? []) {
    const how = b.outcome === 'failed' ? `failed on ${b.host}: ${b.error}` : b.outcome === 'promoted' ? `promoted by ${b.by}` : b.outcome;
    lines.push(`  bake ${b.stage}${b.after === 'canary' ? ' (canary)' : ''} from ${b.startedAt} until ${b.until}, ${b.rounds} rounds: ${how}`);
  }
  for (const a of p.approvals) lines.push(`  ${a.decision} (${a.gate}) by ${a.by} at ${a.at}${a.comment ? `: ${a.comment}` : ''}`);
  for (const r of p.refused) lines.push(`  refused ${r.decision} by ${r.by || '(nobody)'} at ${r.at}: ${r.reason}`);
  const next = nextStep(p, env);
  if (next) lines.push(`  ${next}`);
  return lines.join('\n');
}
