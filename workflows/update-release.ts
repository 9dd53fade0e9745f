import { executeChild, workflowInfo } from '@temporalio/workflow';
import { parseRequest, updateRequestSchema, type DeployStatus, type UpdateRequest } from '../core/domain/requests';
import { buildRelease } from './build-release';
import { deployRelease } from './deploy-release';
import { validated } from './failures';

/** edeliver's `update`: build a revision, then deploy what was built to an environment and verify every host. */
export async function updateRelease(input: UpdateRequest): Promise<DeployStatus> {
  const req = validated(() => parseRequest(updateRequestSchema, input, 'updateRelease'));
  const id = workflowInfo().workflowId;
  const { release } = await executeChild(buildRelease, {
    workflowId: `${id}/build`,
    args: [{ app: req.app, projectDir: req.projectDir, ref: req.ref, buildHost: req.buildHost, buildAt: req.buildAt, tool: req.tool, releaseDir: req.releaseDir, store: req.store, ssh: req.ssh }],
  });
  return executeChild(deployRelease, {
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
      },
    ],
  });
}
