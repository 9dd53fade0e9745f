import { ApplicationFailure, executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { HostTarget, SshSettings } from '../core/domain/host';
import { migrateRequestSchema, migrationStepSchema, runKeyOf, type MigrateRequest, type MigrateResult, type MigrationStep } from '../core/domain/migrations';
import { parseRequest } from '../core/domain/requests';
import { failureMessage, failureType, validated, validInput } from './failures';
import { MIGRATE, SSH_STEP } from './policies';

const ssh = proxyActivities<Activities>(SSH_STEP);
const migrations = proxyActivities<Activities>(MIGRATE);

/**
 * Runs the migration expression (or the status one) with `bin/<app> eval` on the first host, in order, whose node
 * answers ping. `up` and `down` run once per run key and never two at a time on that host (see the runMigration
 * activity); the result carries what the command printed.
 */
export async function migrate(input: MigrateRequest): Promise<MigrateResult> {
  const req = validInput(migrateRequestSchema, input, 'migrate');
  let host: HostTarget | undefined;
  for (const h of req.hosts) {
    if ((await ssh.nodeState({ host: h, app: req.app, ssh: req.ssh })).running) {
      host = h;
      break;
    }
  }
  if (!host) {
    throw ApplicationFailure.nonRetryable(
      `no node of ${req.environment} answers ping (${req.hosts.map((h) => h.name).join(', ')}): migrations run on a running node; start one with \`ferry start ${req.environment}\``,
      'NoNodeRunning',
    );
  }
  const t = { host, app: req.app, ssh: req.ssh, expression: req.expression };
  try {
    const r = req.direction === 'status' ? await ssh.migrationStatus(t) : await migrations.runMigration({ ...t, ...(req.runKey ? { runKey: req.runKey } : {}) });
    return { environment: req.environment, direction: req.direction, host: host.name, expression: req.expression, output: r.output, ...(r.recorded ? { recorded: true } : {}) };
  } catch (err) {
    const locked = failureType(err) === 'MigrationLockedError';
    throw ApplicationFailure.create({ type: locked ? 'MigrationLocked' : 'MigrationFailed', nonRetryable: true, message: `migrate ${req.direction}: ${failureMessage(err)}` });
  }
}

/**
 * Migrations as one step of another workflow (`--run-migrations`, a rollout stage): a `migrate` child whose run key is
 * the caller's workflow id and first run id plus `what`, so the step runs once per caller even when the caller
 * continues as new, is reset to an earlier point, or starts the child again.
 */
export async function migrationStep(
  step: MigrationStep,
  what: string,
  target: { app: string; environment: string; hosts: HostTarget[]; ssh?: SshSettings },
): Promise<MigrateResult> {
  const s = validated(() => parseRequest(migrationStepSchema, step, 'migrations'));
  const info = workflowInfo();
  return executeChild(migrate, {
    workflowId: `${info.workflowId}/migrate-${what}`,
    args: [{ ...target, direction: 'up', expression: s.expression, runKey: runKeyOf(`${info.workflowId}/${what}`, info.firstExecutionRunId) }],
  });
}
