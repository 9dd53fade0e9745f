import { z } from 'zod';
import { InputError } from './errors';
import { isVersion, version, type Version } from './release';

/**
 * edeliver's versioning flags, computed without Mix: `--increment-version=patch|minor|major`, `--set-version=V` and
 * `--auto-version=a+b+...` (metadata appended as `+a-b`). Pure: the git facts come from an activity.
 */

/** What `--auto-version` can append, by Ferry's name; edeliver's `git-`/`build-` prefixes and aliases are accepted. */
export const AUTO_VERSION_PARTS = ['commit-count', 'commit-count-branch', 'revision', 'branch', 'branch-unless-master', 'date', 'time'] as const;
export type AutoVersionPart = (typeof AUTO_VERSION_PARTS)[number];

export const INCREMENTS = ['patch', 'minor', 'major'] as const;
export type Increment = (typeof INCREMENTS)[number];

/** The versioning a build asks for, as workflow input carries it. */
export interface Versioning {
  set?: string;
  increment?: Increment;
  auto?: AutoVersionPart[];
}

/** A version `--set-version` takes: any valid version without `+metadata` (`--auto-version` appends that). */
export function settableVersion(text: string): Version {
  const v = version(text);
  if (v.includes('+')) throw new InputError(`invalid version ${JSON.stringify(v)}: give it without +metadata (--auto-version appends that)`);
  return v;
}

export const versioningSchema = z
  .strictObject({
    set: z
      .string()
      .superRefine((s, ctx) => {
        try {
          settableVersion(s);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
        }
      })
      .optional(),
    increment: z.enum(INCREMENTS).optional(),
    auto: z.array(z.enum(AUTO_VERSION_PARTS)).min(1).max(AUTO_VERSION_PARTS.length, `at most ${AUTO_VERSION_PARTS.length} parts`).optional(),
  })
  .optional();

/** The facts about the revision being built that `--auto-version` appends. */
export interface VersionFacts {
  /** Seven hex digits, as `git rev-parse --short=7`. */
  revision: string;
  branch?: string;
  /** Commits across all branches of the repository (`git rev-list --all --count`). */
  commitCount: number;
  /** Commits reachable from the revision (`git rev-list --count <rev>`). */
  commitCountBranch: number;
  /** Build date and time, UTC: YYYYMMDD and HHMMSS. */
  date: string;
  time: string;
}

const ALIASES: Record<string, AutoVersionPart> = {
  'commit-count-all': 'commit-count',
  'commit-count-all-branches': 'commit-count',
};

/** Parses `--auto-version` (or AUTO_VERSION): parts joined by `+`, each with an optional `git-`, `build-` or `append-` prefix. */
export function parseAutoVersion(text: string, what = '--auto-version'): AutoVersionPart[] {
  const parts = text.split('+').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) throw new InputError(`${what}: give one or more of ${AUTO_VERSION_PARTS.join(', ')}, joined by +`);
  return parts.map((raw) => {
    const name = raw.toLowerCase().replaceAll('_', '-').replace(/^append-/, '').replace(/^(?:git|build)-/, '');
    const part = ALIASES[name] ?? (AUTO_VERSION_PARTS as readonly string[]).find((p) => p === name);
    if (!part) throw new InputError(`${what}: unknown part "${raw}": use ${AUTO_VERSION_PARTS.join(', ')} (joined by +, e.g. commit-count+git-revision)`);
    return part as AutoVersionPart;
  });
}

/**
 * edeliver's `release.version` arithmetic on versions of any number of numeric segments: `major` steps the first,
 * `minor` the second, `patch` the last (1.2.3 -> 1.2.4, 25.3.2.8 -> 25.3.2.9, 1 -> 2); the segments after the one
 * stepped become 0. A zero-padded segment keeps its width (2024.05.01 -> 2024.05.02, 1.09 -> 1.10). A pre-release
 * (after `-` or `~`) and `+metadata` are dropped. InputError, saying why, when a segment before them is not a number or
 * the version has no second segment for `minor`.
 */
export function incrementVersion(v: string, by: Increment): Version {
  const core = v.split(/[-~+]/)[0]!;
  const segments = core.split('.');
  const bad = segments.find((s) => !/^\d+$/.test(s));
  if (bad !== undefined) {
    throw new InputError(`cannot increment ${JSON.stringify(v)}: its segment ${JSON.stringify(bad)} is not a number (--increment-version steps numeric segments); use --set-version=V`);
  }
  if (by === 'minor' && segments.length < 2) {
    throw new InputError(`cannot increment the minor segment of ${JSON.stringify(v)}: it has only one segment; use --increment-version=major or --set-version=V`);
  }
  const at = by === 'major' ? 0 : by === 'minor' ? 1 : segments.length - 1;
  const padded = (s: string, n: bigint) => (s.length > 1 && s.startsWith('0') ? String(n).padStart(s.length, '0') : String(n));
  return version(segments.map((s, i) => (i < at ? s : padded(s, i === at ? BigInt(s) + 1n : 0n))).join('.'));
}

/** Keeps what semver allows in metadata: letters, digits and `-` (as edeliver's valid_semver_metadata). */
const metadata = (text: string): string => text.replace(/[^0-9A-Za-z-]/g, '');

/** The value one `--auto-version` part appends, or undefined when it appends nothing (branch-unless-master on master). */
function partValue(part: AutoVersionPart, f: VersionFacts | undefined): string | undefined {
  if (f === undefined) throw new Error('--auto-version needs the facts of the revision');
  switch (part) {
    case 'commit-count':
      return String(f.commitCount);
    case 'commit-count-branch':
      return String(f.commitCountBranch);
    case 'revision':
      return f.revision.slice(0, 7);
    case 'date':
      return f.date;
    case 'time':
      return f.time;
    case 'branch':
    case 'branch-unless-master': {
      if (f.branch === undefined) throw new InputError(`--auto-version=${part}: the revision is not on a branch: build with --branch=B`);
      const b = metadata(f.branch);
      return part === 'branch-unless-master' && (b === 'master' || b === 'main') ? undefined : b;
    }
  }
}

/**
 * The release version a project's sources declare, from the text of rebar.config (relx's `{release, {App, "V"}, ...}`,
 * in any spacing, over several lines, with the app name quoted or not; the same file in an umbrella project) or of
 * mix.exs (`version: "V"`, else `@version "V"`). Whole-line comments are skipped. Undefined when there is none or it
 * is not a valid version. `app` is a validated application name.
 */
export function declaredVersion(tool: 'rebar3' | 'mix', app: string, text: string): string | undefined {
  const code = text.replace(tool === 'mix' ? /^\s*#.*$/gm : /^\s*%.*$/gm, '');
  const found =
    tool === 'mix'
      ? (/\bversion:\s*"([^"]*)"/.exec(code) ?? /@version\s+"([^"]*)"/.exec(code))
      : new RegExp(String.raw`\{\s*release\s*,\s*\{\s*'?${app}'?\s*,\s*"([^"]*)"`).exec(code);
  const v = found?.[1];
  return v !== undefined && isVersion(v) ? v : undefined;
}

/** Whether a build must change the version its sources declare. */
export const changesVersion = (v: Versioning | undefined): boolean => v !== undefined && (v.set !== undefined || v.increment !== undefined || (v.auto?.length ?? 0) > 0);

/**
 * The version to build, as edeliver computes it: `--set-version`, else the declared one; then `--increment-version`;
 * then the `--auto-version` parts appended as build metadata, the first after `+`, the rest after `-`.
 */
export function nextVersion(declared: string, v: Versioning, facts: VersionFacts | undefined): Version {
  let result: string = v.set ?? declared;
  if (v.increment) result = incrementVersion(result, v.increment);
  else if (v.auto?.length) result = result.split('+')[0]!;
  const values = (v.auto ?? []).map((p) => partValue(p, facts)).filter((x): x is string => x !== undefined && x !== '');
  if (values.length > 0) result = `${result}+${values.join('-')}`;
  return version(result);
}
