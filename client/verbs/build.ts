import { workflowIds } from '../../core/domain/constants';
import type { BuildResult } from '../../core/domain/requests';
import { followBuild, printRest, type BuildLog } from '../progress';
import { buildRequest, type RefFlags } from '../requests';
import { loadConfig, runWorkflow, type GlobalOptions, type VerbContext } from './common';

/** `ferry build release [--branch=B|--revision=R|--tag=T] [--verbose]`: exit 0 when the release is in the store. */
export async function build(ctx: VerbContext, opts: GlobalOptions & RefFlags & { verbose?: boolean; skipExisting?: boolean }): Promise<number> {
  const config = await loadConfig(opts, ctx);
  const request = buildRequest(config, opts);
  const log: BuildLog = { printed: 0 };
  const r = await runWorkflow<BuildResult>(
    ctx,
    opts,
    { workflowType: 'buildRelease', workflowId: workflowIds.build(config.app, request.ref), args: [request], request: `build release ${request.ref}${request.skipExisting ? ' --skip-existing' : ''}` },
    (handle, done) => followBuild(handle, ctx.out, done, opts.verbose ?? false, log),
  );
  if (opts.json) ctx.out.write(`${JSON.stringify(r.ok ? r.result : { error: r.message })}\n`);
  else if (r.ok) {
    if (opts.verbose && r.result.output) printRest(ctx.out, log, r.result.output);
    const rel = r.result.release;
    if (r.result.skipped) ctx.out.write(`${rel.app} ${rel.version} from ${rel.gitRevision?.slice(0, 10) ?? '?'} is already in the store: ${rel.storeKey}; nothing built\n`);
    else ctx.out.write(`built ${rel.app} ${rel.version} from ${rel.gitRevision?.slice(0, 10) ?? '?'}: ${rel.storeKey} (sha256 ${rel.sha256.slice(0, 16)}…)\n`);
  } else ctx.out.write(`build failed: ${r.message}\n`);
  return r.ok ? 0 : 1;
}
