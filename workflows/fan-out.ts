import { ApplicationFailure, executeChild, setHandler, workflowInfo, type Workflow } from '@temporalio/workflow';
import { workflowIds } from '../core/domain/constants';
import type { HostTarget } from '../core/domain/host';
import type { DeployStatus, HostProgress } from '../core/domain/requests';
import { failedStep, failureMessage } from './failures';
import { hostProgressSignal, statusQuery } from './messages';

/** Runs `fn` over `items` with at most `limit` in flight; deterministic, so safe in workflow code. */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

const FINAL: ReadonlySet<HostProgress['step']> = new Set(['done', 'skipped', 'failed']);

/** Answers the `status` query and takes the hosts' `hostProgress` signals; call before the workflow's first await. */
export function trackHosts(status: DeployStatus): void {
  setHandler(statusQuery, () => status);
  setHandler(hostProgressSignal, (p) => {
    const current = status.hosts[p.host];
    // A late signal must not undo the child's final outcome.
    if (current && !FINAL.has(current.step)) status.hosts[p.host] = p;
  });
}

/**
 * One child workflow per host (`<parent id>/<host>`), at most `limit` at a time. A host that fails does not stop the
 * others; at the end the workflow fails with `DeployFailed`, naming every failed host, with `status` as its details.
 */
export async function fanOut<W extends (arg: never) => Promise<HostProgress>>(
  status: DeployStatus,
  hosts: readonly HostTarget[],
  limit: number,
  child: W & Workflow,
  argsOf: (host: HostTarget) => Parameters<W>[0],
  first: HostProgress['step'] = 'upload',
): Promise<DeployStatus> {
  status.phase = 'deploying';
  await eachLimited(hosts, limit, async (host) => {
    // The child answers `hostStatus` with its step; here the host is only known to be under way.
    const current = status.hosts[host.name];
    if (current?.step === 'waiting') current.step = first;
    try {
      status.hosts[host.name] = await executeChild(child, {
        workflowId: workflowIds.hostDeploy(workflowInfo().workflowId, host.name),
        args: [argsOf(host)] as Parameters<W>,
      });
    } catch (err) {
      const step = failedStep<HostProgress['step']>(err) ?? status.hosts[host.name]?.step;
      status.hosts[host.name] = { host: host.name, step: 'failed', error: `${step && step !== 'waiting' ? `${step}: ` : ''}${failureMessage(err)}` };
      status.failed++;
    }
  });
  status.phase = status.failed > 0 ? 'failed' : 'done';
  if (status.failed > 0) {
    const names = Object.values(status.hosts).filter((h) => h.step === 'failed').map((h) => h.host);
    throw ApplicationFailure.create({
      type: 'DeployFailed',
      nonRetryable: true,
      message: `${status.failed} of ${hosts.length} hosts failed: ${names.join(', ')}`,
      details: [status],
    });
  }
  return status;
}
