import { ApplicationFailure, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { deployUpgradeRequestSchema, type DeployStatus, type DeployUpgradeRequest, type HostTarget } from '../core/domain/requests';
import { fanOut, trackHosts } from './fan-out';
import { validInput } from './failures';
import { hostDeploy } from './host-deploy';
import { hostUpgrade } from './host-upgrade';
import { migrationStep } from './migrate';
import { restartNote, runPreflight } from './preflight';
import { LOCAL } from './policies';
import { searched, setSearch } from './search';

const local = proxyActivities<Activities>(LOCAL);

/**
 * Hot-upgrades every host of an environment with a stored upgrade (the newest one unless `version` is given): one
 * hostUpgrade child per host, at most `maxParallel` at a time. A host that fails or is refused does not stop the
 * others; the workflow fails at the end naming every failed host. With `migrations`, runs them once, before the hosts
 * are touched or after every host is upgraded. Before anything, the upgrade's plan decides (see `preflight`): when a
 * hot upgrade is unsafe, `upgradeFallback: 'restart'` restarts the hosts onto the new release one at a time
 * (hostDeploy children) and `refuse` fails with `UpgradeRefused`, touching no node.
 */
export async function deployUpgrade(input: DeployUpgradeRequest): Promise<DeployStatus> {
  return searched(() => upgrade(input));
}

async function upgrade(input: DeployUpgradeRequest): Promise<DeployStatus> {
  const req = validInput(deployUpgradeRequestSchema, input, 'deployUpgrade');
  const status: DeployStatus = {
    phase: 'starting',
    app: req.app,
    environment: req.environment,
    version: req.version ?? '',
    hosts: Object.fromEntries(req.hosts.map((h) => [h.name, { host: h.name, step: 'waiting' as const }])),
    failed: 0,
  };
  trackHosts(status);

  const upgrade = req.version
    ? await local.lookupRelease({ store: req.store, app: req.app, version: req.version, type: 'upgrade', ssh: req.ssh })
    : await local.newestUpgrade({ store: req.store, app: req.app, ssh: req.ssh });
  status.release = upgrade;
  status.version = upgrade.version;
  status.fromVersion = upgrade.fromVersion;
  if (req.version === undefined) setSearch({ version: upgrade.version });
  // Recorded histories predate the preflight: they replay without it, as hot upgrades.
  const pre = patched('upgrade-preflight') ? runPreflight(status, upgrade, req.upgradeFallback) : undefined;
  if (pre?.decision === 'refuse') {
    status.phase = 'failed';
    throw ApplicationFailure.create({ type: 'UpgradeRefused', nonRetryable: true, message: pre.reason ?? 'refused', details: [status] });
  }
  const target = { app: req.app, environment: req.environment, hosts: req.hosts, ssh: req.ssh };
  if (req.migrations?.when === 'before') status.migration = await migrationStep(req.migrations, 'before', target);
  const base = (host: HostTarget) => ({ host, app: req.app, release: upgrade, store: req.store, ssh: req.ssh, hooks: req.hooks, environment: req.environment });
  const done =
    pre?.decision === 'restart'
      ? await fanOut(status, req.hosts, 1, hostDeploy, (host) => ({ ...base(host), startDeploy: true, node: req.node, fallback: restartNote(upgrade.version) }))
      : await fanOut(status, req.hosts, req.maxParallel, hostUpgrade, (host) => ({ ...base(host), ...(pre ? { upgradeFallback: req.upgradeFallback, node: req.node } : {}) }));
  if (req.migrations?.when === 'after') done.migration = await migrationStep(req.migrations, 'after', target);
  return done;
}

