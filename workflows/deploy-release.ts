import { ApplicationFailure, executeChild, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { workflowIds } from '../core/domain/constants';
import { deployRequestSchema, parseRequest, type DeployRequest, type DeployStatus } from '../core/domain/requests';
import { failureMessage, validated } from './failures';
import { hostDeploy } from './host-deploy';
import { hostProgressSignal, statusQuery } from './messages';
import { LOCAL } from './policies';

const local = proxyActivities<Activities>(LOCAL);

/**
 * Deploys one stored release to every host of an environment: one hostDeploy child per host, at most `maxParallel`
 * at a time. A host that fails does not stop the others; the workflow fails at the end naming every failed host.
 */
export async function deployRelease(input: DeployRequest): Promise<DeployStatus> {
  const req = validated(() => parseRequest(deployRequestSchema, input, 'deployRelease'));
  const status: DeployStatus = {
    phase: 'starting',
    app: req.app,
    environment: req.environment,
    version: req.version,
    hosts: Object.fromEntries(req.hosts.map((h) => [h.name, { host: h.name, step: 'waiting' as const }])),
    failed: 0,
  };
  setHandler(statusQuery, () => status);
  setHandler(hostProgressSignal, (p) => {
    const current = status.hosts[p.host];
    // A late signal must not undo the child's final outcome.
    if (current && current.step !== 'done' && current.step !== 'failed') status.hosts[p.host] = p;
  });

  const release = await local.lookupRelease({ store: req.store, app: req.app, version: req.version, ssh: req.ssh });
  status.release = release;
  status.phase = 'deploying';

  await eachLimited(req.hosts, req.maxParallel, async (host) => {
    try {
      status.hosts[host.name] = await executeChild(hostDeploy, {
        workflowId: workflowIds.hostDeploy(workflowInfo().workflowId, host.name),
        args: [{ host, app: req.app, release, store: req.store, startDeploy: req.startDeploy, ssh: req.ssh }],
      });
    } catch (err) {
      const step = status.hosts[host.name]?.step;
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
      message: `${status.failed} of ${req.hosts.length} hosts failed: ${names.join(', ')}`,
      details: [status],
    });
  }
  return status;
}

/** Runs `fn` over `items` with at most `limit` in flight; deterministic, so safe in workflow code. */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
