import { condition, log } from '@temporalio/workflow';
import type { BakeRecord, RolloutProgress } from '../core/domain/plan';
import type { Bake } from '../core/domain/plan';

/** What a bake needs from its rollout: the hosts to watch, one host's checks, and whether an operator promoted it. */
export interface BakeContext {
  progress: RolloutProgress;
  stage: string;
  after: 'canary' | 'stage';
  bake: Bake;
  /** The hosts still healthy, at the start of each round. */
  hosts: () => string[];
  /** Throws when the host is unhealthy. */
  check: (host: string) => Promise<void>;
  /** Set by `promote`: the bake ends at once. */
  promoted: () => string | undefined;
  failureMessage: (err: unknown) => string;
}

// `Date` in workflow code is the workflow clock, so it replays identically.
const clock = (): number => new Date().getTime();
const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Watches the hosts for `bake.seconds`: a round of checks every `bake.intervalSeconds` (a durable timer each, so a
 * worker restart only delays the next round), the last one at the end. Ends at the first failed check, returning the
 * host and why (recorded in the progress's `bakes`), or early when an operator promotes. Never throws for a check.
 */
export async function runBake(c: BakeContext): Promise<{ host: string; error: string } | undefined> {
  const started = clock();
  const end = started + c.bake.seconds * 1000;
  const record: BakeRecord = { stage: c.stage, after: c.after, startedAt: iso(started), until: iso(end), rounds: 0, outcome: 'baking' };
  c.progress.bakes = [...(c.progress.bakes ?? []), record];
  c.progress.waiting = { kind: 'bake', stage: c.stage, after: c.after, until: record.until, since: record.startedAt };
  log.info('bake started', { stage: c.stage, after: c.after, until: record.until });
  const finish = (outcome: BakeRecord['outcome']) => {
    Object.assign(record, { outcome, endedAt: iso(clock()) });
    c.progress.waiting = undefined;
  };
  for (;;) {
    const left = end - clock();
    if (left > 0 && (await condition(() => c.promoted() !== undefined, Math.min(c.bake.intervalSeconds * 1000, left)))) {
      record.by = c.promoted();
      finish('promoted');
      log.info('bake promoted', { stage: c.stage, by: record.by });
      return undefined;
    }
    record.rounds++;
    const results = await Promise.all(c.hosts().map(async (host) => c.check(host).then(() => undefined, (err: unknown) => ({ host, error: c.failureMessage(err) }))));
    const failed = results.find((r) => r !== undefined);
    if (failed) {
      Object.assign(record, failed);
      finish('failed');
      log.warn('bake failed', { stage: c.stage, after: c.after, host: failed.host, error: failed.error, round: record.rounds });
      return failed;
    }
    if (clock() >= end) {
      finish('passed');
      log.info('bake passed', { stage: c.stage, after: c.after, rounds: record.rounds });
      return undefined;
    }
  }
}
