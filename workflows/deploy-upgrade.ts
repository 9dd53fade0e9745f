import { ApplicationFailure, executeChild, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { workflowIds } from '../core/domain/constants';
import { deployUpgradeRequestSchema, parseRequest, type DeployStatus, type DeployUpgradeRequest } from '../core/domain/requests';
import { eachLimited } from './deploy-release';
import { failureMessage, validated } from './failures';
import { hostUpgrade } from './host-upgrade';
import { hostProgressSignal, statusQuery } from './messages';
import { LOCAL } from './policies';

const local = proxyActivities<Activities>(LOCAL);

/**
 * Hot-upgrades every host of an environment with a stored upgrade (the newest one unless `version` is given): one
 * hostUpgrade child per host, at most `maxParallel` at a time. A host that fails or is refused does not stop the
 * others; the workflow fails at the end naming every failed host.
 */
export async function deployUpgrade(input: DeployUpgradeRequest): Promise<DeployStatus> {
  const req = validated(() => parseRequest(deployUpgradeRequestSchema, input, 'deployUpgrade'));
  const status: DeployStatus = {
    phase: 'starting',
    app: req.app,
    environment: req.environment,
    version: req.version ?? '',
    hosts: Object.fromEntries(req.hosts.map((h) => [h.name, { host: h.name, step: 'waiting' as const }])),
    failed: 0,
  };
  setHandler(statusQuery, () => status);
  setHandler(hostProgressSignal, (p) => {
    const current = status.hosts[p.host];
    if (current && current.step !== 'done' && current.step !== 'skipped' && current.step !== 'failed') status.hosts[p.host] = p;
  });

  const upgrade = req.version
    ? await local.lookupRelease({ store: req.store, app: req.app, version: req.version, type: 'upgrade', ssh: req.ssh })
    : await local.newestUpgrade({ store: req.store, app: req.app, ssh: req.ssh });
  status.release = upgrade;
  status.version = upgrade.version;
  status.fromVersion = upgrade.fromVersion;
  status.phase = 'deploying';

  await eachLimited(req.hosts, req.maxParallel, async (host) => {
    try {
      status.hosts[host.name] = await executeChild(hostUpgrade, {
        workflowId: workflowIds.hostDeploy(workflowInfo().workflowId, host.name),
        args: [{ host, app: req.app, release: upgrade, store: req.store, ssh: req.ssh }],
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
