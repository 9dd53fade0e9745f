import type { MigrateResult, MigrationDirection } from '../../core/domain/migrations';
import { migrateRequest } from '../requests';
import { loadConfig, runWorkflow, type GlobalOptions, type VerbContext } from './common';

/** How a migration run reads on a terminal: where it ran, then what the command printed. */
export function migrationReport(r: MigrateResult): string {
  const what = r.direction === 'status' ? 'migrations' : `migrate ${r.direction}`;
  const head = `${what} on ${r.host} (${r.environment})${r.recorded ? ': already done by this run; its recorded output' : ''}:`;
  const body = r.output.trimEnd();
  return `${head}\n${body ? body.split('\n').map((l) => `  ${l}`).join('\n') : '  (no output)'}`;
}

/**
 * `ferry migrate <env> [up|down] [--version=N] [--host=H]` and `ferry show migrations <env>`: the release command on
 * the first node that answers ping; prints its output. Exit 1 when it failed or no node runs.
 */
export async function migrateVerb(
  ctx: VerbContext,
  env: string,
  direction: MigrationDirection,
  opts: GlobalOptions & { version?: string; host?: string[] },
): Promise<number> {
  const config = await loadConfig(opts, ctx);
  const request = migrateRequest(config, env, direction, opts);
  const r = await runWorkflow<MigrateResult>(
    ctx,
    { ...opts, json: true },
    {
      workflowType: 'migrate',
      // Each run is its own request; the hosts' migration lock keeps two runs from overlapping.
      workflowId: `ferry/${config.app}/${env}/migrate-${direction}/${Date.now().toString(36)}`,
      args: [request],
      request: `migrate ${env} ${direction}${opts.version !== undefined ? ` --version=${opts.version}` : ''}`,
    },
    async () => undefined,
  );
  if (opts.json) ctx.out.write(`${JSON.stringify(r.ok ? r.result : { error: r.message })}\n`);
  else ctx.out.write(`${r.ok ? migrationReport(r.result) : `migrate ${direction} failed: ${r.message}`}\n`);
  return r.ok ? 0 : 1;
}
