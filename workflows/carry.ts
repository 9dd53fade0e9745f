import type { RolloutHost, RolloutProgress } from '../core/domain/plan';

/**
 * A rollout's progress in the shape it continues as new with: the hosts a run touched as rows of numbers into one
 * table of strings (steps, versions, errors repeat across thousands of hosts), and none of what the plan gives again
 * (names, batches, untouched hosts). About 20 bytes a host instead of about 200: a 10,000-host stage carries ~200 KB.
 * Start times are not carried (durations are). Pure, so it runs in workflow code.
 */
export interface PackedHosts {
  strings: string[];
  /** Per stage, one row per touched host: [index in the stage's hosts, step, attempts, outcome, previousVersion, version, error, fallback, durationMs]. */
  stages: number[][][];
}

/** -1: no value; -2: null (a previousVersion of "no node ran"). */
const NONE = -1;
const NULL = -2;

export function packProgress(progress: RolloutProgress, order: readonly (readonly string[])[]): { progress: RolloutProgress; packed: PackedHosts } {
  const strings: string[] = [];
  const at = new Map<string, number>();
  const ref = (s: string | null | undefined): number => {
    if (s === undefined) return NONE;
    if (s === null) return NULL;
    if (!at.has(s)) at.set(s, strings.push(s) - 1);
    return at.get(s)!;
  };
  const stages = progress.stages.map((s, si) =>
    order[si]!.flatMap((name, i) => {
      const h = s.hosts[name];
      if (!h || (h.attempts === 0 && h.step === 'waiting')) return [];
      return [[i, ref(h.step), h.attempts, ref(h.outcome), ref(h.previousVersion), ref(h.version), ref(h.error), ref(h.fallback), h.durationMs ?? NONE]];
    }),
  );
  return { progress: { ...progress, stages: progress.stages.map((s) => ({ ...s, batches: [], hosts: {} })) }, packed: { strings, stages } };
}

/** The progress a packed carry stands for, over `fresh` (the plan's initial progress: every host waiting). */
export function unpackProgress(carried: RolloutProgress, packed: PackedHosts, fresh: RolloutProgress, order: readonly (readonly string[])[]): RolloutProgress {
  const str = (n: number) => (n === NONE ? undefined : n === NULL ? null : packed.strings[n]!);
  const stages = fresh.stages.map((s, si) => {
    for (const [i, step, attempts, outcome, previous, version, error, fallback, duration] of packed.stages[si] ?? []) {
      const h: RolloutHost = s.hosts[order[si]![i!]!]!;
      Object.assign(h, { step: str(step!), attempts });
      const optional: Partial<RolloutHost> = { outcome: str(outcome!) as RolloutHost['outcome'], previousVersion: str(previous!), version: str(version!) ?? undefined, error: str(error!) ?? undefined, fallback: str(fallback!) ?? undefined };
      for (const [k, v] of Object.entries(optional)) if (v !== undefined) Object.assign(h, { [k]: v });
      if (duration !== NONE) h.durationMs = duration;
    }
    return { ...carried.stages[si]!, batches: s.batches, hosts: s.hosts };
  });
  return { ...carried, stages };
}
