import { ApplicationFailure, executeChild, getExternalWorkflowHandle, log, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { z } from 'zod';
import type { Activities, NodeState } from '../activities';
import type { NodeSettings } from '../core/domain/host';
import { hostHookVariables } from '../core/domain/hooks';
import { nodeLabel } from '../core/domain/host';
import { hostUpgradeRequestSchema, type HostProgress } from '../core/domain/requests';
import { supervisionProblems } from '../core/domain/supervision';
import type { UpgradeFallback } from '../core/domain/upgrade-plan';
import { failureMessage, stepFailure, validInput } from './failures';
import { runHookIfDefined } from './hooks';
import { hostDeploy, type HostHooks } from './host-deploy';
import { hostProgressSignal, hostStatusQuery } from './messages';
import { SSH_STEP, TRANSFER, VERIFY } from './policies';

const ssh = proxyActivities<Activities>(SSH_STEP);
const transfer = proxyActivities<Activities>(TRANSFER);
const verify = proxyActivities<Activities>(VERIFY);
/** The release script's upgrade runs once per attempt of this child: a second run on a half-upgraded node would not help. */
const script = proxyActivities<Activities>({ ...SSH_STEP, startToCloseTimeout: '6m', retry: { maximumAttempts: 1 } });

/** One host, one upgrade tarball (`release.type` is 'upgrade', `release.fromVersion` what the node must run). */
export interface HostUpgradeRequest extends HostHooks {
  /**
   * After a hot upgrade that fails its checks: `restart` restarts the node onto the new release (the tarball is a
   * complete release); `refuse`, or nothing, downgrades it to the from-version and fails the host.
   */
  upgradeFallback?: UpgradeFallback;
  /** Per-node config for that restart. */
  node?: NodeSettings;
}

/**
 * One host, one hot upgrade: read the running version and OS pid from the node; skip it when it already runs the
 * target; refuse it, untouched, when it runs anything but the upgrade's from-version; upload the tarball to
 * `releases/<v2>/`, read the node's applications and supervision trees, run `bin/<app> upgrade <v2>`, then check the
 * node itself: it must run v2 with the same OS pid, every application of v2 must run and no supervised child may
 * have restarted unless the relup did it on purpose. Otherwise the node is downgraded to v1 and the child fails with
 * what was seen, or, with `upgradeFallback: 'restart'`, it is restarted onto v2 and the reason kept in `fallback`.
 */
export async function hostUpgrade(input: HostUpgradeRequest): Promise<HostProgress> {
  const req = validInput(hostUpgradeRequestSchema, input, 'hostUpgrade');
  // Recorded histories signal each step to the parent; new children answer `hostStatus` and fail with the step they
  // failed at (a signal per step grows with the fleet: docs/scale.md).
  const quiet = patched('host-steps-by-query');
  const at = { step: 'waiting' as HostProgress['step'] };
  return upgradeSteps(req, quiet, at).catch((err: unknown) => {
    throw quiet ? stepFailure(err, at.step) : err;
  });
}

async function upgradeSteps(req: z.output<typeof hostUpgradeRequestSchema>, quiet: boolean, at: { step: HostProgress['step'] }): Promise<HostProgress> {
  const parent = workflowInfo().parent;
  const to = req.release.version;
  const from = req.release.fromVersion;
  const progress: HostProgress = { host: req.host.name, step: 'check' };
  const report = async (step: HostProgress['step']) => {
    progress.step = step;
    at.step = step;
    if (parent && !quiet) await getExternalWorkflowHandle(parent.workflowId, parent.runId).signal(hostProgressSignal, { ...progress });
  };
  const fail = (type: string, message: string) => ApplicationFailure.create({ type, nonRetryable: true, message });
  setHandler(hostStatusQuery, () => progress);
  const onHost = { host: req.host, app: req.app, ssh: req.ssh };
  if (req.release.type !== 'upgrade' || from === undefined) throw fail('InputError', `${req.app} ${to} in the store is not an upgrade`);

  await report('check');
  const before = await ssh.nodeIdentity(onHost);
  if (!before.running) throw fail('NodeNotRunning', `${nodeLabel(req.host)} is not running; a hot upgrade needs a running node on ${from} (not touched)`);
  progress.pid = before.pid;
  if (before.version === to) {
    progress.version = to;
    progress.step = 'skipped';
    return progress;
  }
  if (before.version !== from) {
    throw fail('WrongFromVersion', `runs ${before.version ?? 'an unknown version'}, but the upgrade is from ${from} to ${to}; not touched`);
  }

  await report('upload');
  const upload = await transfer.uploadRelease(req);
  progress.sent = upload.sent;
  if (upload.via) progress.via = upload.via;
  await report('upgrade');
  const vars = hostHookVariables({ app: req.app, host: req.host, environment: req.environment, version: to, fromVersion: from });
  await runHookIfDefined(req.hooks, 'pre_upgrade_release', req.host, vars, req.ssh);
  // Recorded histories of this workflow have no supervision snapshots: they replay without them.
  const supervised = patched('upgrade-supervision');
  const treesBefore = supervised ? await verify.nodeSupervision(onHost) : undefined;
  // The script's outcome is only a clue: the node is checked either way, even when the SSH session itself broke.
  const upgraded = await script.upgradeNode({ ...onHost, version: to }).catch((err: unknown) => ({ exitCode: -1, output: failureMessage(err) }));
  await report('verify');
  const after = await verify.awaitNodeIdentity(onHost);
  let problem = judge(before, after, to);
  if (!problem && treesBefore) problem = supervisionProblems(treesBefore, await verify.nodeSupervision(onHost)).join('; ') || undefined;
  if (!problem) {
    await runHookIfDefined(req.hooks, 'post_upgrade_release', req.host, vars, req.ssh);
    progress.version = after.version;
    progress.step = 'done';
    return progress;
  }

  const outcome = `upgrade script ${upgraded.exitCode < 0 ? 'did not finish' : `exited with ${upgraded.exitCode}`}${upgraded.output.trim() ? `: ${lastLine(upgraded.output)}` : ''}`;
  if (req.upgradeFallback === 'restart') {
    progress.fallback = `the hot upgrade ${from} -> ${to} failed its checks: ${problem} (${outcome}); UPGRADE_FALLBACK=restart: the node is restarted onto ${to}`;
    log.warn('hot upgrade failed, restarting onto the new release', { host: req.host.name, problem });
    await report('start');
    try {
      const restarted = await executeChild(hostDeploy, {
        workflowId: `${workflowInfo().workflowId}/restart`,
        args: [{ host: req.host, app: req.app, release: req.release, store: req.store, ssh: req.ssh, hooks: req.hooks, environment: req.environment, node: req.node, startDeploy: true, forceRestart: true, fallback: progress.fallback }],
      });
      // The node has a new OS pid now: the old one is not reported.
      return { host: progress.host, step: 'done', version: restarted.version, fallback: progress.fallback, ...(progress.via ? { via: progress.via } : {}), sent: progress.sent };
    } catch (err) {
      throw fail('UpgradeFailed', `${progress.fallback}, but the restart failed: ${failureMessage(err)}`);
    }
  }
  await report('downgrade');
  let back: NodeState = after;
  if (after.version !== from) {
    await script.downgradeNode({ ...onHost, version: from });
    back = await verify.awaitNodeIdentity(onHost);
  }
  const where = back.version === from ? `the node runs ${from} again` : `the node runs ${back.version ?? 'an unknown version'}, not ${from}: look at it`;
  throw fail('UpgradeFailed', `upgrade ${from} -> ${to} failed: ${problem} (${outcome}); ${where}`);
}

/** Why the node after the upgrade is not hot-upgraded to `to`, or undefined when it is. */
function judge(before: NodeState, after: NodeState, to: string): string | undefined {
  if (after.version !== to) return `the node runs ${after.version ?? 'an unknown version'}, not ${to}`;
  if (before.pid === undefined || after.pid !== before.pid) return `the node restarted (OS pid ${before.pid ?? '?'} -> ${after.pid ?? '?'}) instead of upgrading in place`;
  return undefined;
}

const lastLine = (text: string): string => text.trim().split('\n').at(-1)!.slice(0, 300);
