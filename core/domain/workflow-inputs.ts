import { freezeRequestSchema } from './freeze';
import { migrateRequestSchema } from './migrations';
import { rolloutPlanSchema } from './plan';
import {
  buildRequestSchema,
  buildUpgradeRequestSchema,
  deployRequestSchema,
  deployUpgradeRequestSchema,
  hostDeployRequestSchema,
  hostUpgradeRequestSchema,
  nodeCommandRequestSchema,
  pruneRequestSchema,
  updateRequestSchema,
  upgradeEnvironmentRequestSchema,
} from './requests';

/**
 * The input schema of every workflow type, by the name `temporal workflow start --type` takes. Each workflow parses its
 * input with its own; the CLI checks a request with the same one before it starts anything.
 */
export const WORKFLOW_INPUTS = {
  buildRelease: buildRequestSchema,
  deployRelease: deployRequestSchema,
  hostDeploy: hostDeployRequestSchema,
  nodeCommand: nodeCommandRequestSchema,
  updateRelease: updateRequestSchema,
  pruneReleases: pruneRequestSchema,
  rollout: rolloutPlanSchema,
  buildUpgrade: buildUpgradeRequestSchema,
  deployUpgrade: deployUpgradeRequestSchema,
  hostUpgrade: hostUpgradeRequestSchema,
  upgradeEnvironment: upgradeEnvironmentRequestSchema,
  migrate: migrateRequestSchema,
  freezeEnvironment: freezeRequestSchema,
} as const;

export type WorkflowType = keyof typeof WORKFLOW_INPUTS;
