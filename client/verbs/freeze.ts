import { userInfo } from 'node:os';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { environmentOf } from '../../core/config/parse';
import { TASK_QUEUE, workflowIds } from '../../core/domain/constants';
import { InputError } from '../../core/domain/errors';
import { freezeRequestSchema, type Freeze, type FreezeRequest } from '../../core/domain/freeze';
import { parseRequest } from '../../core/domain/requests';
import { activeFreeze, withClient } from '../temporal';
import { loadConfig, type GlobalOptions, type VerbContext } from './common';

/** `ferry freeze <env> --reason=... [--by=NAME]`: refuses new changes there and holds a running rollout until unfreeze. */
export async function freezeVerb(ctx: VerbContext, env: string, opts: GlobalOptions & { reason?: string; by?: string }): Promise<number> {
  const config = await loadConfig(opts, ctx);
  environmentOf(config, env);
  if (opts.reason === undefined || opts.reason.trim() === '') throw new InputError('freeze needs --reason="why", e.g. --reason="incident 42"');
  const request: FreezeRequest = { app: config.app, environment: env, by: opts.by ?? userInfo().username, reason: opts.reason };
  parseRequest(freezeRequestSchema, request, 'freezeEnvironment');
  const id = workflowIds.freeze(config.app, env);
  return withClient(ctx.env, async (client) => {
    try {
      await client.workflow.start('freezeEnvironment', { taskQueue: TASK_QUEUE, workflowId: id, args: [request], workflowIdConflictPolicy: 'FAIL' });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const f = await client.workflow.getHandle(id).query<Freeze>('freeze');
      throw new InputError(`${env} is already frozen by ${f.by} since ${f.at}: ${f.reason}`);
    }
    ctx.out.write(opts.json ? `${JSON.stringify(request)}\n` : `${env} frozen by ${request.by}: ${request.reason}\n  new changes are refused and a running rollout holds before its next batch; \`ferry unfreeze ${env}\` lifts it\n`);
    return 0;
  });
}

/** `ferry unfreeze <env> [--by=NAME]`: ends the freeze; a rollout it held goes on. */
export async function unfreezeVerb(ctx: VerbContext, env: string, opts: GlobalOptions & { by?: string }): Promise<number> {
  const config = await loadConfig(opts, ctx);
  environmentOf(config, env);
  const id = workflowIds.freeze(config.app, env);
  return withClient(ctx.env, async (client) => {
    if ((await activeFreeze(client, workflowIds.environment(config.app, env))) === undefined) throw new InputError(`${env} is not frozen`);
    const handle = client.workflow.getHandle(id);
    await handle.signal('unfreeze', { by: opts.by ?? userInfo().username });
    const f = (await handle.result()) as Freeze;
    ctx.out.write(opts.json ? `${JSON.stringify(f)}\n` : `${env} unfrozen by ${f.unfrozenBy} (frozen by ${f.by} since ${f.at}: ${f.reason})\n`);
    return 0;
  });
}
