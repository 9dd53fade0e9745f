import { InputError, shown } from './errors';
import { LIMITS } from './limits';
import type { UpgradePlan } from './upgrade-plan';

/**
 * A release version: what relx, mix and release_handler accept that is also safe as one path segment and one shell
 * word. Only `version()` makes one.
 */
export type Version = string & { readonly __brand: 'Version' };

/** The longest version Ferry accepts. */
export const MAX_VERSION_LENGTH = 100;

/** Characters a version may hold; `_` is left out because it separates app and version in `<app>_<version>` file names. */
const VERSION_CHAR = /[0-9A-Za-z.+~-]/;
const RULE = 'use letters, digits and . + ~ - (not _, which separates app and version in file names), starting with a letter or digit';

/** Why `text` is not a version, or undefined when it is one. */
function versionProblem(text: string): string | undefined {
  if (text === '') return `it is empty; ${RULE}`;
  if (text.length > MAX_VERSION_LENGTH) return `it has ${text.length} characters, at most ${MAX_VERSION_LENGTH} are allowed`;
  const bad = [...new Set([...text].filter((c) => !VERSION_CHAR.test(c)))];
  if (bad.length > 0) return `${bad.map((c) => JSON.stringify(c)).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not allowed; ${RULE}`;
  if (!/^[0-9A-Za-z]/.test(text)) return `it starts with ${JSON.stringify(text[0])}; ${RULE}`;
  if (text.includes('..')) return `".." is not allowed; ${RULE}`;
  // release_handler keeps its own file of this name in releases/, beside the version directories.
  if (text === 'RELEASES') return 'it is the name of the file release_handler keeps in releases/';
  return undefined;
}

/**
 * Validates a version at the edge: letters, digits and `. + ~ -`, starting with a letter or digit, no `..`, at most
 * 100 characters (`1`, `25.3.2.8`, `2024.05.01`, `1.0.0-rc.1`, `0.1.0+build.5`). Anything else is an InputError that
 * names the offending characters; a long text is shortened in the message.
 */
export function version(text: string): Version {
  const problem = versionProblem(text);
  if (problem !== undefined) {
    const shown = text.length > 40 ? `${JSON.stringify(text.slice(0, 40))}...` : JSON.stringify(text);
    throw new InputError(`invalid version ${shown}: ${problem}`);
  }
  return text as Version;
}

export const isVersion = (text: string): text is Version => versionProblem(text) === undefined;

/** An OTP application name: lower-case atom without quotes (`appName` and the request schemas also bound its length). */
export const APP_NAME = /^[a-z][a-z0-9_]*$/;

export function appName(text: string): string {
  if (text.length > LIMITS.name) throw new InputError(`invalid app name ${shown(text)}: at most ${LIMITS.name} characters`);
  if (!APP_NAME.test(text)) throw new InputError(`invalid app name ${shown(text)}: expected an OTP application name like my_app`);
  return text;
}

/** Two runs of digits by value (any length: no precision is lost), leading zeros ignored. */
function compareNumbers(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
}

/** One segment against another, in runs: digits by value, before text; text by character code. */
function compareSegments(a: string, b: string): number {
  const ra = a.match(/\d+|\D+/g) ?? [];
  const rb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.max(ra.length, rb.length); i++) {
    const x = ra[i];
    const y = rb[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    const d = dx && dy ? compareNumbers(x, y) : dx !== dy ? (dx ? -1 : 1) : x < y ? -1 : x > y ? 1 : 0;
    if (d !== 0) return d;
  }
  return 0;
}

/** A version's parts that take part in its order: the release segments, and the pre-release ones after `-` or `~`. */
function orderParts(v: string): { release: string[]; pre?: string[] } {
  const text = v.split('+')[0]!;
  const i = text.search(/[-~]/);
  const release = (i < 0 ? text : text.slice(0, i)).split('.');
  return i < 0 ? { release } : { release, pre: text.slice(i + 1).split('.') };
}

/**
 * Ferry's version order, the rules only (README "Versions"): the part before the first `-` or `~` is compared segment
 * by segment (segments are split at `.`; a missing one counts as 0, so `1.0` equals `1.0.0`); a version with a
 * pre-release part (after `-` or `~`) comes before the same version without one (`1.0.0-rc.1` < `1.0.0`), and
 * pre-release parts are compared segment by segment, the shorter first when one is a prefix of the other. Within a
 * segment, runs of digits compare by value and come before letters (`rc.2` < `rc.10`, `1` < `1a`). `+metadata` is
 * ignored. 0 means the rules do not order the two: see `compareReleases` for the tie-breaks.
 */
export function compareVersions(a: string, b: string): number {
  const pa = orderParts(a);
  const pb = orderParts(b);
  for (let i = 0; i < Math.max(pa.release.length, pb.release.length); i++) {
    const d = compareSegments(pa.release[i] || '0', pb.release[i] || '0');
    if (d !== 0) return d;
  }
  if (pa.pre === undefined || pb.pre === undefined) return pa.pre === pb.pre ? 0 : pa.pre === undefined ? 1 : -1;
  for (let i = 0; i < Math.max(pa.pre.length, pb.pre.length); i++) {
    const x = pa.pre[i];
    const y = pb.pre[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    const d = compareSegments(x, y);
    if (d !== 0) return d;
  }
  return 0;
}

/** What `compareReleases` orders: a version, and for a stored artifact its manifest's build time. */
export interface Versioned {
  version: string;
  builtAt?: string;
}

/**
 * The one order Ferry sorts versions by, oldest first (newest release or upgrade, `prune --keep`, `show releases`):
 * `compareVersions`; two different versions it does not order (`1.0` and `1.0.0`, or `1.0.0+a` and `1.0.0+b`) go by
 * their build time when both have one (the later build is newer), else by their text. Deterministic, 0 only for the
 * same text, and a total order over versions that all have a build time (stored artifacts) or none do.
 */
export function compareReleases(a: Versioned, b: Versioned): number {
  if (a.version === b.version) return 0;
  const byTime = a.builtAt !== undefined && b.builtAt !== undefined ? (a.builtAt < b.builtAt ? -1 : a.builtAt > b.builtAt ? 1 : 0) : 0;
  return compareVersions(a.version, b.version) || byTime || (a.version < b.version ? -1 : 1);
}

/** Versions sorted oldest first by `compareReleases` (no build times: ties go by text). */
export const sortVersions = (versions: string[]): string[] => [...versions].sort((a, b) => compareReleases({ version: a }, { version: b }));

/** Names one artifact in the store: a full release (the default) or an upgrade to `version`. */
export interface ReleaseRef {
  app: string;
  version: string;
  type?: 'release' | 'upgrade';
}

/** The appup an upgrade was built with: the application's own, or one Ferry generated. */
export interface AppupUsed {
  app: string;
  source: 'application' | 'generated';
  text: string;
}

/**
 * What the store knows about one release tarball: its manifest, kept beside it as `<file>.json`. Plain JSON. Facts are
 * read from here, never parsed out of file names.
 */
export interface StoredRelease extends ReleaseRef {
  type: 'release' | 'upgrade';
  sha256: string;
  size: number;
  storeKey: string;
  gitRevision?: string;
  gitBranch?: string;
  builtAt: string;
  /** Upgrades only: the version the relup upgrades from (what a node must run). */
  fromVersion?: string;
  /** Upgrades only: the appup of every application whose version changed, in the release's order. */
  appups?: AppupUsed[];
  /** Upgrades only: the preflight, computed from both releases when the upgrade was built; absent in older manifests and uploads. */
  plan?: UpgradePlan;
  /** Upgrades stored before Ferry kept `appups` and `plan`: the one appup used, for the application named APP. */
  appup?: AppupUsed;
}

/** edeliver's file name for a release or upgrade tarball in the store. */
export const releaseFileName = (ref: ReleaseRef): string => `${ref.app}_${ref.version}.${ref.type ?? 'release'}.tar.gz`;

/** Where a generated appup of one application is kept in the store, beside its upgrade: `<app>_<vsn>.upgrade.tar.gz.<application>.appup`. */
export const generatedAppupName = (upgrade: ReleaseRef, application: string): string => `${releaseFileName({ ...upgrade, type: 'upgrade' })}.${application}.appup`;

/** A git branch, tag or revision that is safe to pass anywhere: no shell metacharacters, no option look-alikes, at most 255 characters. */
const GIT_REF = /^(?![-/.])(?!.*\.\.)(?!.*\/\.)(?!.*\/\/)[A-Za-z0-9._/-]+(?<![./])$/;

export function gitRef(text: string, what = 'branch'): string {
  if (text.length > LIMITS.gitRef) throw new InputError(`invalid ${what} ${shown(text)}: at most ${LIMITS.gitRef} characters`);
  if (!GIT_REF.test(text) || text.endsWith('.lock')) {
    throw new InputError(`invalid ${what} ${shown(text)}: use letters, digits, ".", "_", "-" and "/" only`);
  }
  return text;
}
