import type { WorkflowHandle } from '@temporalio/client';
import { loadDeliveryConfig } from '../config-file';
import type { DeliveryConfig } from '../../core/config/schema';
import type { Out } from '../progress';
import { outcome, startOrAttach, withClient, type StartSpec } from '../temporal';

/** Options every verb accepts. */
export interface GlobalOptions {
  config?: string;
  json?: boolean;
}

/** What a verb needs from its process: where to write, where it runs, and the environment. */
export interface VerbContext {
  out: Out;
  /** Where warnings go (stderr); never stdout, which `--json` keeps machine-readable. */
  err?: Out;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export const loadConfig = (opts: GlobalOptions, ctx: VerbContext): Promise<DeliveryConfig> =>
  loadDeliveryConfig({ configFile: opts.config, cwd: ctx.cwd, warn: (m) => ctx.err?.write(`ferry: warning: ${m}\n`) });

/** Starts or attaches, follows with `follow`, and returns the outcome; prints which one it did. */
export async function runWorkflow<T>(
  ctx: VerbContext,
  opts: GlobalOptions,
  spec: StartSpec,
  follow: (handle: WorkflowHandle, done: Promise<unknown>) => Promise<void>,
): Promise<Awaited<ReturnType<typeof outcome<T>>>> {
  return withClient(ctx.env, async (client) => {
    const { handle, attached } = await startOrAttach(client, spec);
    if (!opts.json) ctx.out.write(`${attached ? 'attached to' : 'started'} ${spec.workflowId} (${spec.request})\n`);
    const done = outcome<T>(handle);
    if (!opts.json) await follow(handle, done);
    return await done;
  });
}
