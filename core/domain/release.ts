import { InputError } from './errors';
import type { UpgradePlan } from './upgrade-plan';

/** A release version as relx and mix write it: `1.2.3`, optional `-pre` and `+build`. Only `version()` makes one. */
export type Version = string & { readonly __brand: 'Version' };

const VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** Validates a version at the edge; anything else (spaces, `/`, `$()`) is an InputError. */
export function version(text: string): Version {
  if (!VERSION.test(text)) {
    throw new InputError(`invalid version "${text}": expected MAJOR.MINOR.PATCH, e.g. 0.1.0`);
  }
  return text as Version;
}

export const isVersion = (text: string): text is Version => VERSION.test(text);

/** An OTP application name: lower-case atom without quotes. */
export const APP_NAME = /^[a-z][a-z0-9_]*$/;

export function appName(text: string): string {
  if (!APP_NAME.test(text)) throw new InputError(`invalid app name "${text}": expected an OTP application name like my_app`);
  return text;
}

/** Semantic-version order (pre-releases before the release); build metadata is ignored. */
export function compareVersions(a: string, b: string): number {
  const [coreA = '', preA] = a.split('+')[0]!.split(/-(.*)/s);
  const [coreB = '', preB] = b.split('+')[0]!.split(/-(.*)/s);
  const na = coreA.split('.').map(Number);
  const nb = coreB.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (na[i] ?? 0) - (nb[i] ?? 0);
    if (d !== 0) return d;
  }
  if (preA === preB) return 0;
  if (preA === undefined) return 1;
  if (preB === undefined) return -1;
  return preA.localeCompare(preB, 'en', { numeric: true });
}

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
  /** Upgrades only: the appup used for the application. */
  appup?: AppupUsed;
  /** Upgrades only: the preflight computed when the upgrade was built; absent in older manifests and uploads. */
  plan?: UpgradePlan;
}

/** edeliver's file name for a release or upgrade tarball in the store. */
export const releaseFileName = (ref: ReleaseRef): string => `${ref.app}_${ref.version}.${ref.type ?? 'release'}.tar.gz`;

/** A git branch, tag or revision that is safe to pass anywhere: no shell metacharacters, no option look-alikes. */
const GIT_REF = /^(?![-/.])(?!.*\.\.)(?!.*\/\.)(?!.*\/\/)[A-Za-z0-9._/-]+(?<![./])$/;

export function gitRef(text: string, what = 'branch'): string {
  if (!GIT_REF.test(text) || text.endsWith('.lock')) {
    throw new InputError(`invalid ${what} "${text}": use letters, digits, ".", "_", "-" and "/" only`);
  }
  return text;
}
