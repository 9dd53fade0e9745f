import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities, OnHost } from '../activities';
import type { HostProgress } from '../core/domain/requests';
import { SSH_STEP, VERIFY } from './policies';

const ssh = proxyActivities<Activities>(SSH_STEP);
const verify = proxyActivities<Activities>(VERIFY);
/** The release script's downgrade or upgrade runs once per call: the node is verified afterwards either way. */
const script = proxyActivities<Activities>({ ...SSH_STEP, startToCloseTimeout: '6m', retry: { maximumAttempts: 1 } });

/**
 * A `downgrade` stage's action on one host (what `ferry rollback` runs after a hot upgrade): `bin/<app> downgrade
 * <version>` on the running node, in place, then the node must report `version`. A node already on it is left alone;
 * a node that is not running cannot be downgraded hot and fails the host, untouched.
 */
export async function downgradeHost(on: OnHost, version: string): Promise<HostProgress> {
  const before = await ssh.nodeState(on);
  if (!before.running) throw ApplicationFailure.nonRetryable(`${on.host.name}: the node is not running; a hot downgrade needs a running node (not touched)`, 'NodeNotRunning');
  if (before.version === version) return { host: on.host.name, step: 'skipped', version };
  const r = await script.downgradeNode({ ...on, version });
  await verify.verifyNode({ ...on, version }).catch((err: unknown) => {
    throw ApplicationFailure.nonRetryable(`${on.host.name}: downgrade to ${version} exited with ${r.exitCode}: ${r.output.slice(-500) || String(err)}`, 'DowngradeFailed');
  });
  return { host: on.host.name, step: 'done', version };
}

/**
 * Undoes a downgrade stage's work on one host: a hot upgrade back to `version`, the release the node ran before the
 * downgrade (it is still unpacked on the host), then the node must report it.
 */
export async function upgradeBack(on: OnHost, version: string): Promise<void> {
  const current = await ssh.nodeState(on);
  if (current.version === version) return;
  await script.upgradeNode({ ...on, version });
  await verify.verifyNode({ ...on, version });
}
