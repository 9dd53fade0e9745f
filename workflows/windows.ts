import { log, sleep } from '@temporalio/workflow';
import type { RolloutProgress } from '../core/domain/plan';
import { nextOpening, type DeployWindow } from '../core/domain/window';

/**
 * Waits, on a durable timer, until the stage's deploy window is open (at once when it is). The opening is computed on
 * the workflow clock with Intl in the window's fixed zone, so it replays identically; it is checked again on waking.
 */
export async function waitForWindow(progress: RolloutProgress, stage: string, w: DeployWindow): Promise<void> {
  for (;;) {
    const now = Date.now();
    const opens = nextOpening(w, now);
    if (opens <= now) break;
    progress.waiting = { kind: 'window', stage, window: w.text, opensAt: new Date(opens).toISOString(), since: new Date(now).toISOString() };
    log.info('rollout waits for its deploy window', { stage, window: w.text, opensAt: progress.waiting.opensAt });
    await sleep(opens - now);
  }
  if (progress.waiting?.kind === 'window') progress.waiting = undefined;
}
