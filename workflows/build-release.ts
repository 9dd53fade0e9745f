import { log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { buildRequestSchema, type BuildRequest, type BuildResult } from '../core/domain/requests';
import { validInput } from './failures';
import { compileOnBuildHost } from './build-steps';
import { LOCAL, SSH_STEP, TRANSFER } from './policies';

const local = proxyActivities<Activities>(LOCAL);
const ssh = proxyActivities<Activities>(SSH_STEP);
const transfer = proxyActivities<Activities>(TRANSFER);

/**
 * Builds one revision on the build host and keeps the tarball in the store (edeliver's `build release`). With
 * `skipExisting`, a release the store already has from the same revision is returned instead.
 */
export async function buildRelease(input: BuildRequest): Promise<BuildResult> {
  const req = validInput(buildRequestSchema, input, 'buildRelease');
  const target = { app: req.app, buildHost: req.buildHost, buildAt: req.buildAt, tool: req.tool, releaseDir: req.releaseDir, ssh: req.ssh };
  const resolved = await local.resolveRevision({ projectDir: req.projectDir, ref: req.ref });
  if (req.skipExisting) {
    const existing = await local.findBuiltRelease({ store: req.store, app: req.app, revision: resolved.revision, ssh: req.ssh });
    if (existing) {
      log.info('release already stored', { version: existing.version, revision: resolved.revision });
      return { release: existing, skipped: true };
    }
  }
  await ssh.pushSource({ ...target, projectDir: req.projectDir, revision: resolved.revision });
  const { output, ...built } = await compileOnBuildHost(target, req, resolved);
  const release = await transfer.fetchRelease({ ...target, ...built, ...resolved, store: req.store });
  log.info('release stored', { version: release.version, sha256: release.sha256 });
  return { release, output };
}
