import { environmentOf } from '../../core/config/parse';
import type { NodeCommand, NodeCommandResult, PruneResult } from '../../core/domain/requests';
import { nodeReport } from '../progress';
import { nodeCommandRequest, pruneRequest } from '../requests';
import { loadConfig, runWorkflow, type GlobalOptions, type VerbContext } from './common';

/** `ferry start|stop|restart|ping|version <env> [--host=H]`: one line per host; exit 1 when any host failed. */
export async function nodeVerb(ctx: VerbContext, command: NodeCommand, env: string, opts: GlobalOptions & { host?: string[] }): Promise<number> {
  const config = await loadConfig(opts, ctx);
  const request = nodeCommandRequest(config, env, command, opts.host);
  const r = await runWorkflow<NodeCommandResult>(
    ctx,
    { ...opts, json: true },
    {
      workflowType: 'nodeCommand',
      // Node commands do not take the environment lock; each gets its own id.
      workflowId: `ferry/${config.app}/${env}/${command}/${Date.now().toString(36)}`,
      args: [request],
      request: `${command} ${env}`,
    },
    async () => undefined,
  );
  const result = r.ok ? r.result : r.report;
  if (opts.json) ctx.out.write(`${JSON.stringify(result ?? { error: r.ok ? undefined : r.message })}\n`);
  else ctx.out.write(`${result ? nodeReport(result) : `${command} failed: ${r.ok ? '' : r.message}`}\n`);
  if (command === 'cluster' && !r.ok && environmentOf(config, env).node?.cluster === undefined) {
    const name = env.toUpperCase();
    ctx.err?.write(`ferry: note: ${env} is not configured as a cluster, so its nodes are not told to connect; set ${name}_CLUSTER=true in .deliver/config and deploy again\n`);
  }
  return r.ok ? 0 : 1;
}

/** `ferry prune <env> --keep=N [--host=H]`: old releases on every host; the running one is always kept. Exit 1 when any host failed. */
export async function pruneHosts(ctx: VerbContext, env: string, keep: number, opts: GlobalOptions & { host?: string[] }): Promise<number> {
  const config = await loadConfig(opts, ctx);
  const request = pruneRequest(config, env, keep, opts.host);
  const r = await runWorkflow<PruneResult>(
    ctx,
    { ...opts, json: true },
    { workflowType: 'pruneReleases', workflowId: `ferry/${config.app}/${env}/prune/${Date.now().toString(36)}`, args: [request], request: `prune ${env} --keep=${keep}` },
    async () => undefined,
  );
  const result = r.ok ? r.result : r.report;
  if (opts.json) ctx.out.write(`${JSON.stringify(result ?? { error: r.ok ? undefined : r.message })}\n`);
  else if (!result) ctx.out.write(`prune failed: ${r.ok ? '' : r.message}\n`);
  else {
    ctx.out.write(`prune ${env} --keep=${keep}: ${result.failed === 0 ? `${result.hosts.length} hosts ok` : `${result.failed} of ${result.hosts.length} hosts failed`}\n`);
    for (const h of result.hosts) {
      const what = h.ok ? `removed ${h.removed?.join(', ') || 'nothing'}; kept ${h.kept?.join(', ') || 'nothing'}${h.running ? ` (runs ${h.running})` : ''}` : h.error ?? 'failed';
      ctx.out.write(`  ${h.ok ? '✓' : '✗'} ${h.host.padEnd(22)} ${what}\n`);
    }
  }
  return r.ok ? 0 : 1;
}
