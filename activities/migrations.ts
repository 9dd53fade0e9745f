import { Context, log } from '@temporalio/activity';
import * as migrate from '../core/commands/migrate';
import { toShell } from '../core/commands/shell';
import { InputError, MigrationLockedError, RemoteCommandError } from '../core/domain/errors';
import { releaseLayout } from '../core/domain/host';
import { runKeyOf } from '../core/domain/migrations';
import type { OnHost } from './remote-host';
import { authOf } from './ssh/auth';
import type { SshPool } from './ssh/ssh-pool';

/** What a migration command printed, and whether an earlier attempt's record was returned instead of running it. */
export interface MigrationOutput {
  output: string;
  recorded: boolean;
}

const tailOf = (text: string): string => text.slice(-8000);

/** Release commands for migrations on one host: `bin/<app> eval <expression>`. */
export function migrationActivities({ ssh }: { ssh: SshPool }) {
  return {
    /**
     * Runs the migration expression once per run key (default: this activity's workflow id and run id), never two at
     * a time on the host (see core/commands/migrate `once`). Repeatable: a retry after a crash waits for the attempt
     * still running, or finds its record and returns the recorded output without running anything.
     * MigrationLockedError when another run holds the host's lock; RemoteCommandError when the command fails.
     */
    async runMigration(t: OnHost & { expression: string; runKey?: string }): Promise<MigrationOutput> {
      const ctx = Context.current();
      const run = ctx.info.workflowExecution;
      const key = t.runKey ?? (run ? runKeyOf(run.workflowId, run.runId) : undefined);
      if (key === undefined) throw new InputError('runMigration outside a workflow needs a runKey');
      const layout = releaseLayout(t.host.deployTo, t.app);
      const command = migrate.once(layout, key, migrate.evaluate(layout, t.expression));
      const r = await ssh.run(t.host, command, { allowFailure: true, signal: ctx.cancellationSignal }, authOf(t.ssh));
      if (r.exitCode === migrate.LOCKED_EXIT) throw new MigrationLockedError(`${t.host.name}: ${r.stderr.trim() || 'migrations are locked by another run'}`);
      if (r.exitCode !== 0) throw new RemoteCommandError(t.host.name, `bin/${t.app} eval ${toShell([t.expression])}`, r.exitCode, `${r.stderr}${r.stdout}`);
      const { recorded, output } = migrate.parseOnce(r.stdout);
      log.info(recorded ? 'migration record found' : 'migration ran', { host: t.host.name, key });
      return { output: tailOf(output), recorded };
    },

    /** Runs a read-only expression (the migration status) with `bin/<app> eval`; prints what it printed. */
    async migrationStatus(t: OnHost & { expression: string }): Promise<MigrationOutput> {
      const layout = releaseLayout(t.host.deployTo, t.app);
      const r = await ssh.run(t.host, migrate.evaluate(layout, t.expression), { allowFailure: true, signal: Context.current().cancellationSignal }, authOf(t.ssh));
      const output = `${r.stdout}${r.stderr}`;
      if (r.exitCode !== 0 || output.startsWith('{error,')) {
        throw new RemoteCommandError(t.host.name, `bin/${t.app} eval ${toShell([t.expression])}`, r.exitCode, output);
      }
      return { output: tailOf(r.stdout), recorded: false };
    },
  };
}
