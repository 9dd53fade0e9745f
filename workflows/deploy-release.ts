import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { deployRequestSchema, type DeployRequest, type DeployStatus } from '../core/domain/requests';
import { fanOut, trackHosts } from './fan-out';
import { validInput } from './failures';
import { hostDeploy } from './host-deploy';
import { LOCAL } from './policies';
import { searched } from './search';

const local = proxyActivities<Activities>(LOCAL);

/**
 * Deploys one stored release to every host of an environment: one hostDeploy child per host, at most `maxParallel`
 * at a time. A host that fails does not stop the others; the workflow fails at the end naming every failed host.
 */
export async function deployRelease(input: DeployRequest): Promise<DeployStatus> {
  return searched(() => deploy(input));
}

async function deploy(input: DeployRequest): Promise<DeployStatus> {
  const req = validInput(deployRequestSchema, input, 'deployRelease');
  const status: DeployStatus = {
    phase: 'starting',
    app: req.app,
    environment: req.environment,
    version: req.version,
    hosts: Object.fromEntries(req.hosts.map((h) => [h.name, { host: h.name, step: 'waiting' as const }])),
    failed: 0,
  };
  trackHosts(status);

  const release = await local.lookupRelease({ store: req.store, app: req.app, version: req.version, ssh: req.ssh });
  status.release = release;
  return fanOut(status, req.hosts, req.maxParallel, hostDeploy, (host) => ({
    host,
    app: req.app,
    release,
    store: req.store,
    startDeploy: req.startDeploy,
    ssh: req.ssh,
    ...(req.node ? { node: req.node } : {}),
    hooks: req.hooks,
    environment: req.environment,
  }));
}
