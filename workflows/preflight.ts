import { log, upsertMemo } from '@temporalio/workflow';
import { preflight, preflightMemo, type Preflight } from '../core/domain/preflight';
import type { StoredRelease } from '../core/domain/release';
import type { UpgradeFallback } from '../core/domain/upgrade-plan';

/**
 * Runs the preflight of `upgrade` and records it: in `status` (the status or progress query), in the memo (so in the
 * history: `temporal workflow describe` shows it) and in the log. The caller acts on the decision.
 */
export function runPreflight(status: { preflight?: Preflight }, upgrade: StoredRelease, policy: UpgradeFallback): Preflight {
  const pre = preflight(upgrade, policy);
  status.preflight = pre;
  upsertMemo({ preflight: preflightMemo(pre) });
  if (pre.decision !== 'hot' || !pre.plan) log.warn('upgrade preflight decided', { ...preflightMemo(pre) });
  else log.info('upgrade preflight decided', { decision: pre.decision });
  return pre;
}

/** A host restarted by the preflight's decision; the reason (the risks) is in the preflight, once. */
export const restartNote = (to: string): string => `restarted onto ${to} instead of a hot upgrade (see the preflight)`;
