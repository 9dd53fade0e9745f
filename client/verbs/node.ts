import type { NodeCommand, NodeCommandResult } from '../../core/domain/requests';
import { nodeReport } from '../progress';
import { nodeCommandRequest } from '../requests';
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
  return r.ok ? 0 : 1;
}
