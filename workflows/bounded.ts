import { workflowInfo } from '@temporalio/workflow';

/**
 * Bounded fan-out for workflows whose host count has no small upper bound (a rollout stage of up to 10,000 hosts).
 * Temporal's limits per run: 51,200 events (Ferry keeps a run under 10,240), 2,000 pending children or activities
 * (Ferry keeps under 500), 10,000 signals. A fan-out here holds at most `limit` hosts in flight and takes no new host
 * once the history, plus what the hosts in flight may still add, would pass `EVENT_BUDGET`: the caller then continues
 * as new and goes on with what is left. See docs/scale.md.
 */

/** Events one run may reach before it continues as new; below 10,240, with room for signals and the last tasks. */
export const EVENT_BUDGET = 9000;

/**
 * Events a host in flight may still add to the parent's history, per step it runs in the parent (an activity or a
 * child: scheduled/initiated, started, completed, and a workflow task of three events for its completion).
 */
export const EVENTS_PER_STEP = 6;

/** True once the run should end as soon as it can: its own threshold, the server's suggestion or the budget. */
export function historyFull(threshold: number): boolean {
  const info = workflowInfo();
  return info.historyLength >= Math.min(threshold, EVENT_BUDGET) || info.continueAsNewSuggested;
}

/**
 * Runs `fn` over `items` in order with at most `limit` in flight; before taking the next item, stops when the history
 * with `reserve` events per item in flight (and the next one) would reach `EVENT_BUDGET`, or when the server suggests
 * continue-as-new. Deterministic, so safe in workflow code. Returns the items it did not start.
 */
export async function boundedEach<T>(items: readonly T[], limit: number, reserve: number, fn: (item: T) => Promise<void>): Promise<T[]> {
  let next = 0;
  let running = 0;
  const room = () => {
    const info = workflowInfo();
    // One item always runs, whatever the history: a run that starts nothing would continue as new for ever.
    if (running === 0 && next === 0) return true;
    return !info.continueAsNewSuggested && info.historyLength + (running + 1) * reserve < EVENT_BUDGET;
  };
  const lane = async () => {
    while (next < items.length && room()) {
      const item = items[next++]!;
      running++;
      try {
        await fn(item);
      } finally {
        running--;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return items.slice(next);
}
