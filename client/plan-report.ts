import { isHot, type UpgradePlan } from '../core/domain/upgrade-plan';

const APPUP = { application: 'its own', generated: 'generated' } as const;

/** One line: whether the plan can go hot, and how many risks it has of each severity. */
export function verdict(plan: UpgradePlan): string {
  const restarts = plan.risks.filter((r) => r.severity === 'restart').length;
  const warnings = plan.risks.length - restarts;
  const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const head = isHot(plan) ? 'hot upgrade' : `needs a restart (${plural(restarts, 'risk')})`;
  return warnings ? `${head}, ${plural(warnings, 'warning')}` : isHot(plan) ? `${head}, no risks found` : head;
}

/**
 * The upgrade plan as `ferry show upgrade-plan` prints it: the verdict, ERTS, a table of the applications that change
 * (the unchanged ones on one line), each upgraded application's up instructions, then every risk, restarts first.
 */
export function planReport(app: string, plan: UpgradePlan): string {
  const lines = [`upgrade plan ${app} ${plan.from} -> ${plan.to}: ${verdict(plan)}`];
  lines.push(plan.erts.from === plan.erts.to ? `ERTS ${plan.erts.to} (unchanged)` : `ERTS ${plan.erts.from} -> ${plan.erts.to}`);
  const changed = plan.apps.filter((a) => a.change !== 'unchanged');
  const unchanged = plan.apps.filter((a) => a.change === 'unchanged').map((a) => a.app);
  const rows = changed.map((a) => [a.app, a.from ?? '-', a.to ?? '-', a.change, a.appup ? APPUP[a.appup] : '']);
  const head = ['APPLICATION', 'FROM', 'TO', 'CHANGE', 'APPUP'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  lines.push('');
  for (const row of [head, ...rows]) lines.push(row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  if (unchanged.length) lines.push(`unchanged: ${unchanged.join(', ')}`);
  for (const a of changed.filter((c) => c.instructions !== undefined)) {
    lines.push('', `${a.app} ${a.from} -> ${a.to} (${a.appup === 'application' ? 'its own appup' : 'generated appup'}):`);
    lines.push(...a.instructions!.split('\n').map((l) => `  ${l}`));
  }
  lines.push('', plan.risks.length ? 'risks:' : 'risks: none found');
  for (const r of plan.risks) lines.push(`  ${r.severity.padEnd(7)}  ${r.kind.padEnd(10)}  ${r.message}`);
  return `${lines.join('\n')}\n`;
}
