/**
 * The preflight of a hot upgrade: what changes between two releases, application by application, and every risk
 * Ferry can detect before a node is touched. It is computed on the build host from both releases (their `.rel` files,
 * compiled modules, `sys.config` and ERTS) when the upgrade is built, kept in the upgrade's manifest, shown by
 * `ferry show upgrade-plan`, and read again before every deploy of the upgrade. Plain JSON: it crosses the workflow
 * boundary.
 */

/** What happens to one application of the release. */
export interface AppChange {
  app: string;
  /** The application's version in the old release; absent for an added application. */
  from?: string;
  /** The application's version in the new release; absent for a removed application. */
  to?: string;
  /** `upgraded`: its version changed (an appup is used); `added`/`removed`: relup's add_application/remove_application. */
  change: 'upgraded' | 'added' | 'removed' | 'unchanged';
  /** For `upgraded`: the application's own appup, or one Ferry generated. */
  appup?: 'application' | 'generated';
  /** For `upgraded`: the appup's up instructions for `from`, as Erlang text. */
  instructions?: string;
}

/**
 * Kinds of risk; each has a documented meaning in the README's "Preflight" section. `appup`: an application's own
 * appup that does not cover the upgrade (Ferry generated one) or does not name a module that changed. `elixir`: one of
 * Elixir's own applications (elixir, logger, ...) changes version (a mix release restarts onto it).
 */
export const RISK_KINDS = ['erts', 'elixir', 'supervisor', 'state', 'nif', 'config', 'unchanged-vsn', 'appup'] as const;
export type RiskKind = (typeof RISK_KINDS)[number];

/**
 * One thing that can make a hot upgrade go wrong. `restart`: the hot upgrade is unsafe, and the fallback policy
 * (UPGRADE_FALLBACK) decides between a rolling restart onto the new release and refusing; `warning`: shown, the hot
 * upgrade goes ahead.
 */
export interface UpgradeRisk {
  kind: RiskKind;
  severity: 'restart' | 'warning';
  app?: string;
  module?: string;
  /** One sentence a person can act on, e.g. "hello_sup: child hello_worker moved from hello_sup to hello_pool_sup". */
  message: string;
}

export interface UpgradePlan {
  from: string;
  to: string;
  /** ERTS versions of the two releases (from their `.rel` files). */
  erts: { from: string; to: string };
  apps: AppChange[];
  risks: UpgradeRisk[];
}

/** Whether the plan can go hot: no risk that needs a restart. */
export const isHot = (plan: UpgradePlan): boolean => plan.risks.every((r) => r.severity !== 'restart');

/** UPGRADE_FALLBACK: what an upgrade does when the preflight finds it cannot go hot. */
export const UPGRADE_FALLBACKS = ['restart', 'refuse'] as const;
export type UpgradeFallback = (typeof UPGRADE_FALLBACKS)[number];
