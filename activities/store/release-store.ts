import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { ChecksumMismatchError, VersionNotInStoreError } from '../../core/domain/errors';
import { compareReleases, type ReleaseRef, type StoredRelease } from '../../core/domain/release';
import type { StoreDescriptor } from '../../core/domain/store';

/** A manifest before the store has placed the artifact: the store fills in `size` and `storeKey`. */
export type NewRelease = Omit<StoredRelease, 'size' | 'storeKey'>;

/**
 * One place where releases are kept: a local directory, a directory on a host (SFTP) or an S3 bucket. Every artifact
 * has a JSON manifest beside it; the manifest is written last, so an artifact without one does not exist.
 */
export interface ReleaseStore {
  readonly kind: StoreDescriptor['kind'];
  /** How messages name the store (`/dir`, `user@host:/path`, `s3://bucket/prefix`); never holds a secret. */
  readonly name: string;
  /** The manifest of one artifact, or undefined. */
  head(ref: ReleaseRef): Promise<StoredRelease | undefined>;
  /** Every manifest, sorted by `sortReleases`. */
  list(): Promise<StoredRelease[]>;
  /**
   * Streams a local file into the store; the sha256 of the bytes read must be `release.sha256` (else
   * ChecksumMismatchError and nothing is committed). The artifact goes under its final name atomically, then its manifest.
   */
  put(file: string, release: NewRelease, onBytes?: (n: number) => void): Promise<StoredRelease>;
  /** A stream of the artifact's bytes; the reader verifies them against the manifest. */
  openRead(ref: ReleaseRef): Promise<Readable>;
  /** A time-limited URL a host can download the artifact from by itself, when the store has such URLs (S3). */
  presignedUrl?(ref: ReleaseRef, seconds: number): Promise<string>;
  /**
   * Writes a small text file (a generated appup) beside the artifacts under `name`, replacing it atomically; returns
   * where it is. Not a release: `list` never sees it.
   */
  putText(name: string, text: string): Promise<string>;
  /** Removes the manifest, then the artifact. Repeatable. */
  delete(ref: ReleaseRef): Promise<void>;
  /** Releases sockets the store holds (S3); a process that exits after one command calls it. */
  close?(): void;
}

/** The manifest of one release or upgrade; VersionNotInStoreError names the versions of that type the store has. */
export async function getRelease(store: ReleaseStore, ref: ReleaseRef): Promise<StoredRelease> {
  const found = await store.head(ref);
  if (found) return found;
  const type = ref.type ?? 'release';
  const have = (await store.list()).filter((r) => r.app === ref.app && r.type === type).map((r) => r.version);
  throw new VersionNotInStoreError(
    `${ref.app} ${ref.version}${type === 'upgrade' ? ' (upgrade)' : ''} is not in the release store ${store.name}` +
      (have.length ? ` (it has ${have.join(', ')})` : ` (it has no ${type}s)`) +
      (type === 'upgrade' ? `; build it with \`ferry build upgrade --from=<version> --to=${ref.version}\`` : `; build it with \`ferry build release --tag=${ref.version}\``),
  );
}

/** The newest upgrade of `app` in the store, or undefined. */
export async function newestUpgrade(store: ReleaseStore, app: string): Promise<StoredRelease | undefined> {
  return (await store.list()).filter((r) => r.app === app && r.type === 'upgrade').at(-1);
}

/**
 * Sorts manifests by app, then `compareReleases` (0.10.0 after 0.9.0; versions the rules do not order, by build time),
 * then type (a release before its upgrade). A version's build time is its earliest artifact's, so that its release and
 * upgrade stay together.
 */
export function sortReleases(releases: StoredRelease[]): StoredRelease[] {
  const builtAt = new Map<string, string>();
  for (const r of releases) {
    const key = `${r.app} ${r.version}`;
    const seen = builtAt.get(key);
    if (seen === undefined || r.builtAt < seen) builtAt.set(key, r.builtAt);
  }
  const at = (r: StoredRelease) => ({ version: r.version, builtAt: builtAt.get(`${r.app} ${r.version}`) });
  return releases.sort((a, b) => a.app.localeCompare(b.app) || compareReleases(at(a), at(b)) || a.type.localeCompare(b.type));
}

/** A pass-through stream that hashes and counts what flows through it. */
export function hashing(onBytes?: (n: number) => void): Transform & { sha256(): string; bytes(): number } {
  const hash = createHash('sha256');
  let n = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      n += chunk.length;
      onBytes?.(n);
      done(null, chunk);
    },
  });
  let digest: string | undefined;
  return Object.assign(t, { sha256: () => (digest ??= hash.digest('hex')), bytes: () => n });
}

/** Throws ChecksumMismatchError unless what was read has the expected sha256. */
export function expectSha256(what: string, got: string, expected: string): void {
  if (got !== expected) throw new ChecksumMismatchError(`${what}: sha256 is ${got}, expected ${expected}; nothing was stored`);
}

/** Parses a manifest file's text. */
export const parseManifest = (text: string): StoredRelease => JSON.parse(text) as StoredRelease;

export const manifestText = (m: StoredRelease): string => `${JSON.stringify(m, null, 2)}\n`;
