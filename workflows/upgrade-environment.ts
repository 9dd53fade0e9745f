import { ApplicationFailure, executeChild, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities, NodeState } from '../activities';
import { workflowIds } from '../core/domain/constants';
import { upgradeEnvironmentRequestSchema, type DeployStatus, type HostTarget, type UpgradeEnvironmentRequest } from '../core/domain/requests';
import { buildUpgrade } from './build-upgrade';
import { eachLimited } from './fan-out';
import { failureMessage, validInput } from './failures';
import { hostDeploy } from './host-deploy';
import { hostUpgrade } from './host-upgrade';
import { migrationStep } from './migrate';
import { hostProgressSignal, statusQuery } from './messages';
import { restartNote, runPreflight } from './preflight';
import { LOCAL, SSH_STEP } from './policies';
import { searched, setSearch } from './search';

const local = proxyActivities<Activities>(LOCAL);
const ssh = proxyActivities<Activities>(SSH_STEP);

/**
 * edeliver's automatic `upgrade`: reads every node's running version; the running nodes must agree on one (else it
 * fails naming them, before any change); builds the upgrade from that version to `ref` (from the store's release of
 * that version, else from the git tag of that name); hot-upgrades the running nodes and deploys and starts the full
 * release on the stopped ones. A host that fails does not stop the others; the workflow fails at the end naming them.
 * With `migrations`, runs them once, before the hosts are touched or after every host is done. Between the build and
 * the first host, the upgrade's plan decides (see `preflight`): when a hot upgrade is unsafe, `upgradeFallback:
 * 'restart'` restarts the running hosts onto the new release one at a time, and `refuse` fails with `UpgradeRefused`.
 */
export async function upgradeEnvironment(input: UpgradeEnvironmentRequest): Promise<DeployStatus> {
  return searched(() => upgrade(input));
}

async function upgrade(input: UpgradeEnvironmentRequest): Promise<DeployStatus> {
  const req = validInput(upgradeEnvironmentRequestSchema, input, 'upgradeEnvironment');
  const id = workflowInfo().workflowId;
  const status: DeployStatus = {
    phase: 'starting',
    app: req.app,
    environment: req.environment,
    version: '',
    hosts: Object.fromEntries(req.hosts.map((h) => [h.name, { host: h.name, step: 'check' as const }])),
    failed: 0,
  };
  setHandler(statusQuery, () => status);
  setHandler(hostProgressSignal, (p) => {
    const current = status.hosts[p.host];
    if (current && current.step !== 'done' && current.step !== 'skipped' && current.step !== 'failed') status.hosts[p.host] = p;
  });
  const fail = (host: HostTarget, error: string) => {
    status.hosts[host.name] = { host: host.name, step: 'failed', error };
    status.failed++;
  };

  const states = await Promise.all(
    req.hosts.map(async (host): Promise<NodeState | undefined> => {
      try {
        return await ssh.nodeState({ host, app: req.app, ssh: req.ssh });
      } catch (err) {
        fail(host, `check: ${failureMessage(err)}`);
        return undefined;
      }
    }),
  );
  const online = req.hosts.filter((_, i) => states[i]?.running);
  const offline = req.hosts.filter((_, i) => states[i] !== undefined && !states[i]!.running);
  const running = new Map<string, string[]>();
  req.hosts.forEach((h, i) => {
    if (states[i]?.running) running.set(states[i]!.version ?? 'an unknown version', [...(running.get(states[i]!.version ?? 'an unknown version') ?? []), h.name]);
  });
  if (online.length === 0) {
    throw ApplicationFailure.create({ type: 'NoNodeRunning', nonRetryable: true, message: `no node of ${req.environment} is running: nothing to upgrade from; deploy a release with --start-deploy`, details: [status] });
  }
  if (running.size > 1) {
    const which = [...running].map(([v, hosts]) => `${v} on ${hosts.join(', ')}`).join('; ');
    throw ApplicationFailure.create({ type: 'NodesDisagree', nonRetryable: true, message: `the running nodes of ${req.environment} do not agree on a version: ${which}; nothing was changed`, details: [status] });
  }
  const from = [...running.keys()][0]!;
  if (from === 'an unknown version') throw ApplicationFailure.nonRetryable(`the running nodes of ${req.environment} do not report their version`, 'NodesDisagree');

  const stored = await local.findRelease({ store: req.store, app: req.app, version: from, ssh: req.ssh });
  const { release: upgrade } = await executeChild(buildUpgrade, {
    workflowId: `${id}/build`,
    args: [
      {
        app: req.app, projectDir: req.projectDir, ref: req.ref, buildHost: req.buildHost, buildAt: req.buildAt, tool: req.tool,
        releaseDir: req.releaseDir, store: req.store, ssh: req.ssh, hooks: req.hooks, versioning: req.versioning, ...(stored ? { with: from } : { from }),
      },
    ],
  });
  status.release = upgrade;
  status.version = upgrade.version;
  status.fromVersion = from;
  // Recorded histories predate the preflight: they replay without it, as hot upgrades.
  const pre = patched('upgrade-preflight') ? runPreflight(status, upgrade, req.upgradeFallback) : undefined;
  if (pre?.decision === 'refuse') {
    status.phase = 'failed';
    throw ApplicationFailure.create({ type: 'UpgradeRefused', nonRetryable: true, message: pre.reason ?? 'refused', details: [status] });
  }
  const restart = pre?.decision === 'restart';
  status.phase = 'deploying';
  setSearch({ version: upgrade.version, phase: 'deploying' });
  for (const h of [...online, ...offline]) status.hosts[h.name] = { host: h.name, step: 'waiting' };

  const target = { app: req.app, environment: req.environment, hosts: req.hosts, ssh: req.ssh };
  if (req.migrations?.when === 'before') status.migration = await migrationStep(req.migrations, 'before', target);
  // A rolling restart: one host at a time, so the others keep serving.
  await eachLimited([...online, ...offline], restart ? 1 : req.maxParallel, async (host) => {
    const args = { host, app: req.app, release: upgrade, store: req.store, ssh: req.ssh, hooks: req.hooks, environment: req.environment };
    const workflowId = workflowIds.hostDeploy(id, host.name);
    const hot = online.includes(host) && !restart;
    try {
      status.hosts[host.name] = hot
        ? await executeChild(hostUpgrade, { workflowId, args: [{ ...args, ...(pre ? { upgradeFallback: req.upgradeFallback, ...(req.node ? { node: req.node } : {}) } : {}) }] })
        : await executeChild(hostDeploy, {
            workflowId,
            args: [{ ...args, startDeploy: true, ...(req.node ? { node: req.node } : {}), ...(restart && online.includes(host) ? { fallback: restartNote(upgrade.version) } : {}) }],
          });
    } catch (err) {
      const step = status.hosts[host.name]?.step;
      fail(host, `${step && step !== 'waiting' ? `${step}: ` : ''}${failureMessage(err)}`);
    }
  });

  status.phase = status.failed > 0 ? 'failed' : 'done';
  if (status.failed > 0) {
    const names = Object.values(status.hosts).filter((h) => h.step === 'failed').map((h) => h.host);
    throw ApplicationFailure.create({ type: 'DeployFailed', nonRetryable: true, message: `${status.failed} of ${req.hosts.length} hosts failed: ${names.join(', ')}`, details: [status] });
  }
  if (req.migrations?.when === 'after') status.migration = await migrationStep(req.migrations, 'after', target);
  return status;
}
