import { ApplicationFailure, executeChild, log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { StoredRelease } from '../core/domain/release';
import { changesVersion } from '../core/domain/versioning';
import { buildUpgradeRequestSchema, type BuildResult, type BuildUpgradeRequest } from '../core/domain/requests';
import { buildRelease } from './build-release';
import { compileOnBuildHost } from './build-steps';
import { validInput } from './failures';
import { BUILD, LOCAL, SSH_STEP, TRANSFER } from './policies';

const local = proxyActivities<Activities>(LOCAL);
const ssh = proxyActivities<Activities>(SSH_STEP);
const builder = proxyActivities<Activities>(BUILD);
const transfer = proxyActivities<Activities>(TRANSFER);

const refuse = (message: string) => ApplicationFailure.nonRetryable(message, 'InputError');

/**
 * edeliver's `build upgrade`: builds `ref` (v2) on the build host and an upgrade to it from an old release (v1): the
 * stored release `with`, else the stored release of the version `from` declares, else `from` built now. The relup
 * gives every application whose version changed its own appup or one Ferry generates. Stores
 * `<app>_<v2>.upgrade.tar.gz`, whose manifest names v1 as `fromVersion` and holds the appups and the upgrade plan.
 * Refuses, before any remote work, an upgrade whose two versions are the same.
 */
export async function buildUpgrade(input: BuildUpgradeRequest): Promise<BuildResult> {
  const req = validInput(buildUpgradeRequestSchema, input, 'buildUpgrade');
  const target = { app: req.app, buildHost: req.buildHost, buildAt: req.buildAt, tool: req.tool, releaseDir: req.releaseDir, ssh: req.ssh };

  const to = await local.resolveRevision({ projectDir: req.projectDir, ref: req.ref });
  // With versioning flags the version built is not the declared one: only the built versions are compared, after the build.
  const toVersion = changesVersion(req.versioning)
    ? undefined
    : (await local.readVersionAt({ projectDir: req.projectDir, revision: to.revision, app: req.app, tool: req.tool })).version;
  let old: StoredRelease | null = null;
  let fromRevision: string | undefined;
  if (req.with !== undefined) {
    if (toVersion !== undefined && req.with === toVersion) throw refuse(`${req.ref} is ${toVersion}, the version to upgrade from: an upgrade needs two different versions`);
    old = await local.lookupRelease({ store: req.store, app: req.app, version: req.with, ssh: req.ssh });
  } else {
    const from = await local.resolveRevision({ projectDir: req.projectDir, ref: req.from! });
    if (from.revision === to.revision) throw refuse(`--from=${req.from} and ${req.ref} are the same revision: an upgrade needs two different versions`);
    const fromVersion = (await local.readVersionAt({ projectDir: req.projectDir, revision: from.revision, app: req.app, tool: req.tool })).version;
    if (fromVersion !== undefined && fromVersion === toVersion) {
      throw refuse(`--from=${req.from} and ${req.ref} both declare version ${fromVersion}: an upgrade needs two different versions`);
    }
    if (fromVersion !== undefined) old = await local.findRelease({ store: req.store, app: req.app, version: fromVersion, ssh: req.ssh });
    fromRevision = from.revision;
  }
  if (old === null) {
    // The old release is built like any release (and kept in the store), before the new one takes the build tree.
    ({ release: old } = await executeChild(buildRelease, {
      workflowId: `${workflowInfo().workflowId}/from`,
      args: [{ app: req.app, projectDir: req.projectDir, ref: fromRevision!, buildHost: req.buildHost, buildAt: req.buildAt, tool: req.tool, releaseDir: req.releaseDir, store: req.store, ssh: req.ssh, hooks: req.hooks }],
    }));
  }

  await ssh.pushSource({ ...target, projectDir: req.projectDir, revision: to.revision });
  const built = await compileOnBuildHost(target, req, to, { cleanReleaseDir: true });
  if (built.version === old.version) throw refuse(`${req.ref} builds ${built.version}, the version to upgrade from: an upgrade needs two different versions`);
  // Histories recorded before the plan existed replay with `upgrade` undefined: the activity arguments may differ.
  const { upgrade, output, ...relup } = await builder.makeRelup({ ...target, store: req.store, from: old, version: built.version });
  const release = await transfer.fetchRelease({ ...target, ...relup, ...to, store: req.store, upgrade: { ...upgrade, fromVersion: old.version } });
  log.info('upgrade stored', { from: old.version, to: release.version, appups: release.appups?.length, risks: release.plan?.risks.length });
  return { release, output };
}
