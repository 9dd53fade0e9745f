import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { pruneRequestSchema, type PruneHostResult, type PruneRequest, type PruneResult } from '../core/domain/requests';
import { failureMessage, validInput } from './failures';
import { SSH_STEP } from './policies';

const ssh = proxyActivities<Activities>(SSH_STEP);

/** `ferry prune <env> --keep=N`: old releases under releases/ on every host, in parallel; never the running one. */
export async function pruneReleases(input: PruneRequest): Promise<PruneResult> {
  const req = validInput(pruneRequestSchema, input, 'pruneReleases');
  const hosts = await Promise.all(
    req.hosts.map(async (host): Promise<PruneHostResult> => {
      try {
        return { ok: true, ...(await ssh.pruneHostReleases({ host, app: req.app, keep: req.keep, ssh: req.ssh })) };
      } catch (err) {
        return { host: host.name, ok: false, error: failureMessage(err) };
      }
    }),
  );
  const result: PruneResult = { environment: req.environment, hosts, failed: hosts.filter((h) => !h.ok).length };
  if (result.failed > 0) {
    throw ApplicationFailure.create({
      type: 'PruneFailed',
      nonRetryable: true,
      message: `prune failed on ${result.failed} of ${hosts.length} hosts`,
      details: [result],
    });
  }
  return result;
}
