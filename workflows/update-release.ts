import { executeChild, workflowInfo } from '@temporalio/workflow';
import { updateRequestSchema, type DeployStatus, type UpdateRequest } from '../core/domain/requests';
import { buildRelease } from './build-release';
import { runHookIfDefined } from './hooks';
import { deployRelease } from './deploy-release';
import { validInput } from './failures';
import { migrationStep } from './migrate';
import { searched, setSearch } from './search';

/**
 * edeliver's `update`: build a revision, then deploy what was built to an environment and verify every host. With
 * `migrations`, runs them once, before the deploy or after every host is done. `pre_erlang_update` runs on the build
 * host before the build, `post_erlang_update` there after every host is deployed (and after the migrations).
 */
export async function updateRelease(input: UpdateRequest): Promise<DeployStatus> {
  return searched(() => update(input));
}

async function update(input: UpdateRequest): Promise<DeployStatus> {
  const req = validInput(updateRequestSchema, input, 'updateRelease');
  const id = workflowInfo().workflowId;
  const vars = { APP: req.app, BUILD_HOST: req.buildHost.address, BUILD_USER: req.buildHost.user, BUILD_AT: req.buildAt, DEPLOY_ENVIRONMENT: req.environment };
  await runHookIfDefined(req.hooks, 'pre_erlang_update', req.buildHost, vars, req.ssh);
  const { release } = await executeChild(buildRelease, {
    workflowId: `${id}/build`,
    args: [
      {
        app: req.app, projectDir: req.projectDir, ref: req.ref, buildHost: req.buildHost, buildAt: req.buildAt, tool: req.tool,
        releaseDir: req.releaseDir, store: req.store, ssh: req.ssh, hooks: req.hooks, versioning: req.versioning,
      },
    ],
  });
  setSearch({ version: release.version, phase: 'deploying' });
  const target = { app: req.app, environment: req.environment, hosts: req.hosts, ssh: req.ssh };
  const before = req.migrations?.when === 'before' ? await migrationStep(req.migrations, 'before', target) : undefined;
  const status = await executeChild(deployRelease, {
    workflowId: `${id}/deploy`,
    args: [
      {
        app: req.app,
        environment: req.environment,
        version: release.version,
        hosts: req.hosts,
        store: req.store,
        startDeploy: req.startDeploy,
        maxParallel: req.maxParallel,
        ssh: req.ssh,
        node: req.node,
        hooks: req.hooks,
      },
    ],
  });
  const migration = req.migrations?.when === 'after' ? await migrationStep(req.migrations, 'after', target) : before;
  await runHookIfDefined(req.hooks, 'post_erlang_update', req.buildHost, { ...vars, VERSION: release.version }, req.ssh);
  return migration ? { ...status, migration } : status;
}
