import { workflowIds } from '../../core/domain/constants';
import type { DeployStatus, UpdateRequest } from '../../core/domain/requests';
import { deployReport, followBuild, followDeploy } from '../progress';
import { buildRequest, deployRequest, deployUpgradeRequest, migrationsOf, upgradeEnvironmentRequest, type DeployFlags, type MigrationFlags, type RefFlags, type VersionFlags } from '../requests';
import { migrationReport } from './migrate';
import { loadConfig, runWorkflow, type GlobalOptions, type VerbContext } from './common';
import { InputError } from '../../core/domain/errors';
import { environmentOf } from '../../core/config/parse';
import { rolloutVerb } from './rollout';

/** `ferry deploy release to <env> --version=V [--start-deploy] [--host=H]`: exit 0 when every host succeeded. */
export async function deploy(ctx: VerbContext, env: string, opts: GlobalOptions & DeployFlags): Promise<number> {
  if (opts.version === undefined) throw new InputError('deploy release needs --version=V (see `ferry show releases`)');
  const config = await loadConfig(opts, ctx);
  // <ENV>_REQUIRE_APPROVAL=true: the deploy goes through a rollout, which waits for `ferry approve`.
  if (environmentOf(config, env).rollout?.requireApproval) {
    return rolloutVerb(ctx, [env], { ...opts, startDeploy: opts.startDeploy ?? false, maxFailures: undefined });
  }
  const request = deployRequest(config, env, { ...opts, version: opts.version });
  const r = await runWorkflow<DeployStatus>(
    ctx,
    opts,
    {
      workflowType: 'deployRelease',
      workflowId: workflowIds.environment(config.app, env),
      args: [request],
      request: `deploy release ${request.version}${request.startDeploy ? ' --start-deploy' : ''} to ${request.hosts.map((h) => h.name).join(' ')}`,
    },
    (handle, done) => followDeploy(handle, ctx.out, done),
  );
  return report(ctx, opts, r);
}

/** `ferry deploy upgrade to <env> [--version=V] [--host=H]`: hot-upgrades every node; exit 0 when every host is on the target. */
export async function deployUpgrade(ctx: VerbContext, env: string, opts: GlobalOptions & DeployFlags & MigrationFlags & { hotOnly?: boolean }): Promise<number> {
  if (opts.startDeploy) throw new InputError('--start-deploy is for `deploy release`; an upgrade needs running nodes');
  const config = await loadConfig(opts, ctx);
  const request = deployUpgradeRequest(config, env, opts);
  const r = await runWorkflow<DeployStatus>(
    ctx,
    opts,
    {
      workflowType: 'deployUpgrade',
      workflowId: workflowIds.environment(config.app, env),
      args: [request],
      request: `deploy upgrade ${request.version ?? '(newest)'} to ${request.hosts.map((h) => h.name).join(' ')}`,
    },
    (handle, done) => followDeploy(handle, ctx.out, done),
  );
  return report(ctx, opts, r);
}

/** `ferry update <env> [--branch=B] [--start-deploy]`: build, then deploy what was built and verify every host. */
export async function update(ctx: VerbContext, env: string, opts: GlobalOptions & RefFlags & VersionFlags & MigrationFlags & Omit<DeployFlags, 'version'>): Promise<number> {
  const config = await loadConfig(opts, ctx);
  const build = buildRequest(config, opts);
  // The version is unknown until the build ran; validate everything else now with a placeholder.
  const { hosts, startDeploy, maxParallel, environment, node } = deployRequest(config, env, { ...opts, version: '0.0.0' });
  const request: UpdateRequest = { ...build, environment, hosts, startDeploy, maxParallel, ...(node ? { node } : {}), ...migrationsOf(config, opts) };
  const id = workflowIds.environment(config.app, env);
  const r = await runWorkflow<DeployStatus>(
    ctx,
    opts,
    { workflowType: 'updateRelease', workflowId: id, args: [request], request: `update ${build.ref}${startDeploy ? ' --start-deploy' : ''}${request.migrations ? ' --run-migrations' : ''}` },
    async (handle, done) => {
      const children = handle.client;
      await followBuild(children.getHandle(`${id}/build`), ctx.out, closed(() => children.getHandle(`${id}/build`).result(), done), false);
      await followDeploy(children.getHandle(`${id}/deploy`), ctx.out, done);
    },
  );
  return report(ctx, opts, r);
}

/**
 * `ferry upgrade <env> [--branch=B|--tag=T|--revision=R] [--host=H]`: the running nodes must agree on a version; the
 * upgrade from it is built, the running nodes are hot-upgraded and the stopped ones get the full release and start.
 */
export async function upgradeEnvironment(
  ctx: VerbContext,
  env: string,
  opts: GlobalOptions & RefFlags & VersionFlags & MigrationFlags & { host?: string[]; maxParallel?: number; hotOnly?: boolean },
): Promise<number> {
  const config = await loadConfig(opts, ctx);
  const request = upgradeEnvironmentRequest(config, env, opts);
  const id = workflowIds.environment(config.app, env);
  const r = await runWorkflow<DeployStatus>(
    ctx,
    opts,
    { workflowType: 'upgradeEnvironment', workflowId: id, args: [request], request: `upgrade ${request.ref} on ${request.hosts.map((h) => h.name).join(' ')}` },
    async (handle, done) => {
      await followBuild(handle.client.getHandle(`${id}/build`), ctx.out, closed(() => handle.client.getHandle(`${id}/build`).result(), done), false);
      await followDeploy(handle, ctx.out, done);
    },
  );
  return report(ctx, opts, r);
}

/** Settles when `result` does (retrying while the child does not exist yet), or when `done` does. */
async function closed(result: () => Promise<unknown>, done: Promise<unknown>): Promise<void> {
  let over = false;
  void done.finally(() => (over = true)).catch(() => undefined);
  while (!over) {
    const settled = await result().then(() => true, (err: Error) => err.name !== 'WorkflowNotFoundError');
    if (settled) return;
    await new Promise((res) => setTimeout(res, 300));
  }
}

function report(ctx: VerbContext, opts: GlobalOptions, r: { ok: true; result: DeployStatus } | { ok: false; message: string; report?: DeployStatus }): number {
  const status = r.ok ? r.result : r.report;
  if (opts.json) ctx.out.write(`${JSON.stringify(status ?? { error: r.ok ? undefined : r.message })}\n`);
  else if (status) ctx.out.write(`${deployReport(status)}\n${status.migration ? `${migrationReport(status.migration)}\n` : ''}`);
  else if (!r.ok) ctx.out.write(`failed: ${r.message}\n`);
  return r.ok ? 0 : 1;
}
