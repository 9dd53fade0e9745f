import { ContinueAsNew, isCancellation, metricMeter, workflowInfo, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

/**
 * Ferry's workflow metrics, bundled with the workflows as an interceptor module: `ferry_deploys_total` by workflow type
 * and outcome (ok, failed, cancelled) for the workflows that change hosts. Metrics are not recorded while a workflow
 * replays, and they add no command: recorded histories replay unchanged. A run that continues as new is not counted.
 */
const DEPLOYS = new Set(['deployRelease', 'deployUpgrade', 'upgradeEnvironment', 'updateRelease', 'rollout']);

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        const type = workflowInfo().workflowType;
        if (!DEPLOYS.has(type)) return next(input);
        const count = (outcome: string) => metricMeter.createCounter('ferry_deploys', '', 'Deploys, upgrades and rollouts by outcome').add(1, { workflow: type, outcome });
        try {
          const result = await next(input);
          count('ok');
          return result;
        } catch (err) {
          if (!(err instanceof ContinueAsNew)) count(isCancellation(err) ? 'cancelled' : 'failed');
          throw err;
        }
      },
    },
  ],
});
