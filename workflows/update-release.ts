import { executeChild, workflowInfo } from '@temporalio/workflow';
import { parseRequest, updateRequestSchema, type DeployStatus, type UpdateRequest } from '../core/domain/requests';
import { buildRelease } from './build-release';
import { deployRelease } from './deploy-release';
import { validated } from './failures';
import { migrationStep } from './migrate';

/**
 * edeliver's `update`: build a revision, then deploy what was built to an environment and verify every host. With
 * `migrations`, runs them once, before the deploy or after every host is done.
 */
export async function updateRelease(input: UpdateRequest): Promise<DeployStatus> {
  const req = validated(() => parseRequest(updateRequestSchema, input, 'updateRelease'));
  const id = workflowInfo().workflowId;
  const { release } = await executeChild(buildRelease, {
    workflowId: `${id}/build`,
    args: [{ app: req.app, projectDir: req.projectDir, ref: req.ref, buildHost: req.buildHost, buildAt: req.buildAt, tool: req.tool, releaseDir: req.releaseDir, store: req.store, ssh: req.ssh }],
  });
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
      },
    ],
  });
  const migration = req.migrations?.when === 'after' ? await migrationStep(req.migrations, 'after', target) : before;
  return migration ? { ...status, migration } : status;
}
