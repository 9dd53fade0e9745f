import type { StoredRelease } from './release';
import { isHot, type UpgradeFallback, type UpgradePlan } from './upgrade-plan';

/**
 * What an upgrade does on its hosts, decided from the upgrade's plan before any node is touched. Pure and reachable
 * from workflow code: changing a decision needs `patched()` in the workflows that call it.
 */
export interface Preflight {
  /** `hot`: a hot upgrade on each host; `restart`: a rolling restart onto the new release; `refuse`: no node touched. */
  decision: 'hot' | 'restart' | 'refuse';
  /** UPGRADE_FALLBACK (or `refuse` for --hot-only): what an unsafe hot upgrade turns into. */
  policy: UpgradeFallback;
  /** Why it is not simply hot: the risks that need a restart, or that the upgrade has no plan. */
  reason?: string;
  /** The upgrade's plan, as its manifest keeps it; absent for older manifests and `ferry upload upgrade`. */
  plan?: UpgradePlan;
}

/**
 * Decides between a hot upgrade, a restart and a refusal: hot when the plan has no risk that needs a restart, or when
 * there is no plan at all (nothing can be checked: the hot upgrade goes ahead as before plans existed); otherwise the
 * policy decides. The reason names every risk that needs a restart.
 */
export function preflight(upgrade: StoredRelease, policy: UpgradeFallback): Preflight {
  const plan = upgrade.plan;
  if (!plan) {
    return {
      decision: 'hot',
      policy,
      reason: `no preflight available: the manifest of ${upgrade.app} ${upgrade.version} has no upgrade plan (built by an older Ferry, or uploaded); going hot, checked on each node afterwards`,
    };
  }
  if (isHot(plan)) return { decision: 'hot', policy, plan };
  const risks = plan.risks.filter((r) => r.severity === 'restart').map((r) => `${r.kind}${r.app ? ` (${r.app})` : ''}: ${r.message}`);
  const unsafe = `a hot upgrade ${plan.from} -> ${plan.to} is unsafe: ${risks.join('; ')}`;
  return policy === 'restart'
    ? { decision: 'restart', policy, plan, reason: `${unsafe}; UPGRADE_FALLBACK=restart: a rolling restart onto ${plan.to} instead` }
    : { decision: 'refuse', policy, plan, reason: `${unsafe}; refused (UPGRADE_FALLBACK=refuse or --hot-only): no node was touched` };
}

/** What a workflow keeps in its memo and history about the decision: small, without the plan. */
export const preflightMemo = (p: Preflight) => ({ decision: p.decision, policy: p.policy, ...(p.reason ? { reason: p.reason } : {}) });
