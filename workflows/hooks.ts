import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { HookName, Hooks, HookVariables } from '../core/domain/hooks';
import type { SshSettings, SshTarget } from '../core/domain/host';
import { SSH_STEP } from './policies';

const hookStep = proxyActivities<Activities>(SSH_STEP);

/** Runs the hook `name` on `host` when `.deliver/config` defines it; its failure (with its output) fails the caller. */
export async function runHookIfDefined(hooks: Hooks | undefined, name: HookName, host: SshTarget, vars: HookVariables, ssh?: SshSettings): Promise<void> {
  const text = hooks?.[name];
  if (text !== undefined) await hookStep.runHook({ host, name, text, vars, ssh });
}
