import { getExternalWorkflowHandle, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { z } from 'zod';
import type { Activities, ReleaseOnHost } from '../activities';
import type { NodeSettings } from '../core/domain/host';
import { hostDeployRequestSchema, type HostProgress } from '../core/domain/requests';
import { hostHookVariables, type Hooks } from '../core/domain/hooks';
import { stepFailure, validInput } from './failures';
import { runHookIfDefined } from './hooks';
import { hostProgressSignal, hostStatusQuery } from './messages';
import { SSH_STEP, TRANSFER, VERIFY } from './policies';

const ssh = proxyActivities<Activities>(SSH_STEP);
const transfer = proxyActivities<Activities>(TRANSFER);
const verify = proxyActivities<Activities>(VERIFY);

/** A host step's release, with the `.deliver/config` hooks to run around its steps and the environment they name. */
export interface HostHooks extends ReleaseOnHost {
  hooks?: Hooks;
  environment?: string;
}

export interface HostDeployRequest extends HostHooks {
  startDeploy: boolean;
  /** Per-node config of the environment: linked vm.args/sys.config, cookie file, cluster. */
  node?: NodeSettings;
  /** Restart a running node even when it runs this version already (after a hot upgrade that failed its checks). */
  forceRestart?: boolean;
  /** Why this host is restarted onto an upgrade's release instead of hot-upgraded; kept in its progress. */
  fallback?: string;
}

/**
 * One host, one release: upload, verify, unpack, configure, start and verify the running version.
 * Every step checks before it acts, so a rerun after a crash redoes nothing that was finished.
 */
export async function hostDeploy(input: HostDeployRequest): Promise<HostProgress> {
  const req = validInput(hostDeployRequestSchema, input, 'hostDeploy');
  // Recorded histories signal each step to the parent; new children answer `hostStatus` and fail with the step they
  // failed at (a signal per step grows with the fleet: docs/scale.md).
  const quiet = patched('host-steps-by-query');
  const at = { step: 'waiting' as HostProgress['step'] };
  return deploySteps(req, quiet, at).catch((err: unknown) => {
    throw quiet ? stepFailure(err, at.step) : err;
  });
}

async function deploySteps(req: z.output<typeof hostDeployRequestSchema>, quiet: boolean, at: { step: HostProgress['step'] }): Promise<HostProgress> {
  const parent = workflowInfo().parent;
  const progress: HostProgress = { host: req.host.name, step: 'upload', ...(req.fallback ? { fallback: req.fallback } : {}) };
  const report = async (step: HostProgress['step']) => {
    progress.step = step;
    at.step = step;
    if (parent && !quiet) await getExternalWorkflowHandle(parent.workflowId, parent.runId).signal(hostProgressSignal, { ...progress });
  };
  setHandler(hostStatusQuery, () => progress);
  const onHost = { host: req.host, app: req.app, ssh: req.ssh };
  await report('upload');
  const upload = await transfer.uploadRelease(req);
  progress.sent = upload.sent;
  if (upload.via) progress.via = upload.via;
  await report('unpack');
  const hook = (name: Parameters<typeof runHookIfDefined>[1]) =>
    runHookIfDefined(req.hooks, name, req.host, hostHookVariables({ app: req.app, host: req.host, environment: req.environment, version: req.release.version }), req.ssh);
  await hook('pre_extract_release_archive');
  await ssh.unpackRelease(req);
  await hook('post_extract_release_archive');
  await report('configure');
  await ssh.configureNode({ ...onHost, version: req.release.version, ...(req.node ? { node: req.node } : {}) });
  if (req.startDeploy) {
    await report('start');
    await hook('pre_start_deployed_release');
    await ssh.startNode({ ...onHost, restart: true, ...(req.forceRestart ? {} : { version: req.release.version }) });
    await hook('post_start_deployed_release');
    await report('verify');
    progress.version = (await verify.verifyNode({ ...onHost, version: req.release.version })).version;
  }
  progress.step = 'done';
  return progress;
}
