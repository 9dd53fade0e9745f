import { isVersion, sortVersions } from './release';

/** Which versions a prune keeps and removes. */
export interface PrunePlan {
  keep: string[];
  remove: string[];
}

/**
 * Pure: keeps the `keep` newest versions (by `compareReleases`: any version, not only semver) and every protected one
 * (the version a node runs, the one its start script would start); removes the rest. Names that are not versions
 * (`RELEASES`, anything with `_` or a space) are never touched.
 */
export function planPrune(present: string[], keep: number, protectedVersions: Array<string | undefined>): PrunePlan {
  const versions = sortVersions(present.filter(isVersion));
  const newest = new Set(versions.slice(Math.max(0, versions.length - keep)));
  const kept = versions.filter((v) => newest.has(v) || protectedVersions.includes(v));
  return { keep: kept, remove: versions.filter((v) => !kept.includes(v)) };
}
