import { defineSearchAttributeKey, type SearchAttributePair } from '@temporalio/common';

/**
 * Ferry's search attributes: every deploy, update, upgrade and rollout carries them, so Temporal's visibility answers
 * "which rollouts wait for approval in production" or "what did we deploy last week" (`ferry history`,
 * `temporal workflow list --query "FerryEnvironment='production' AND FerryOutcome='succeeded'"`). The namespace must
 * have them registered (scripts/temporal.env lists them for the dev server, Compose and scripts/production.sh).
 */
export const SEARCH = {
  app: defineSearchAttributeKey('FerryApp', 'KEYWORD'),
  environment: defineSearchAttributeKey('FerryEnvironment', 'KEYWORD'),
  version: defineSearchAttributeKey('FerryVersion', 'KEYWORD'),
  phase: defineSearchAttributeKey('FerryPhase', 'KEYWORD'),
  outcome: defineSearchAttributeKey('FerryOutcome', 'KEYWORD'),
};

export const FERRY_PHASES = ['building', 'deploying', 'waiting-for-approval', 'waiting-for-operator', 'done'] as const;
export const FERRY_OUTCOMES = ['succeeded', 'failed', 'rejected', 'aborted', 'rolled-back'] as const;
export type FerryPhase = (typeof FERRY_PHASES)[number];
export type FerryOutcome = (typeof FERRY_OUTCOMES)[number];

export interface SearchFields {
  app?: string;
  environment?: string;
  version?: string;
  phase?: FerryPhase;
  outcome?: FerryOutcome;
}

/** The workflow types that carry the search attributes, and their phase at start. */
export const SEARCHED_WORKFLOWS: Record<string, FerryPhase> = {
  deployRelease: 'deploying',
  updateRelease: 'building',
  deployUpgrade: 'deploying',
  upgradeEnvironment: 'building',
  rollout: 'deploying',
};

/** The attribute pairs for `fields` (unset fields are left out). */
export function searchPairs(fields: SearchFields): SearchAttributePair[] {
  return (Object.keys(SEARCH) as (keyof SearchFields)[])
    .filter((k) => fields[k] !== undefined)
    .map((k) => ({ key: SEARCH[k], value: fields[k]! }));
}

/** What a workflow's input says about it: app, environment (a rollout's last stage) and version when known. */
export function searchFieldsOf(workflowType: string, input: unknown): SearchFields | undefined {
  const phase = SEARCHED_WORKFLOWS[workflowType];
  if (phase === undefined || typeof input !== 'object' || input === null) return undefined;
  const i = input as { app?: unknown; environment?: unknown; version?: unknown; stages?: { environment?: unknown }[] };
  const environment = Array.isArray(i.stages) ? i.stages[i.stages.length - 1]?.environment : i.environment;
  if (typeof i.app !== 'string' || typeof environment !== 'string') return undefined;
  return { app: i.app, environment, ...(typeof i.version === 'string' ? { version: i.version } : {}), phase };
}

/** The Temporal UI's one-line summary of a run. */
export function summaryOf(workflowType: string, fields: SearchFields): string {
  const what = { deployRelease: 'deploy', updateRelease: 'update', deployUpgrade: 'upgrade', upgradeEnvironment: 'upgrade', rollout: 'rollout' }[workflowType] ?? workflowType;
  return `${what} ${fields.app ?? ''}${fields.version ? ` ${fields.version}` : ''} to ${fields.environment ?? '?'}`;
}
