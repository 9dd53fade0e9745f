import { randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VersionNotInStoreError } from '../../core/domain/errors';
import { compareVersions, releaseFileName, type ReleaseRef, type StoredRelease } from '../../core/domain/release';

/**
 * A release store in a local directory (edeliver's default `.deliver/releases`): each tarball beside a JSON manifest.
 * Writes go to a temp name and are renamed, so a crash never leaves a half file under a final name.
 */
export class LocalStore {
  constructor(readonly dir: string) {}

  /** Absolute path of a release tarball in the store. */
  path(ref: ReleaseRef): string {
    return join(this.dir, releaseFileName(ref));
  }

  /** The manifest of one release, or undefined. */
  async head(ref: ReleaseRef): Promise<StoredRelease | undefined> {
    try {
      return JSON.parse(await readFile(`${this.path(ref)}.json`, 'utf8')) as StoredRelease;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** The manifest of one release or upgrade; VersionNotInStoreError names the versions of that type the store has. */
  async get(ref: ReleaseRef): Promise<StoredRelease> {
    const found = await this.head(ref);
    if (found) return found;
    const type = ref.type ?? 'release';
    const have = (await this.list()).filter((r) => r.app === ref.app && r.type === type).map((r) => r.version);
    throw new VersionNotInStoreError(
      `${ref.app} ${ref.version}${type === 'upgrade' ? ' (upgrade)' : ''} is not in the release store ${this.dir}` +
        (have.length ? ` (it has ${have.join(', ')})` : ` (it has no ${type}s)`) +
        (type === 'upgrade' ? `; build it with \`ferry build upgrade --from=<version> --to=${ref.version}\`` : `; build it with \`ferry build release --tag=${ref.version}\``),
    );
  }

  /** The newest upgrade of `app` in the store, or undefined. */
  async newestUpgrade(app: string): Promise<StoredRelease | undefined> {
    return (await this.list()).filter((r) => r.app === app && r.type === 'upgrade').at(-1);
  }

  /** Writes a text file next to the store's tarballs (a generated appup), through a temp name. */
  async writeText(name: string, text: string): Promise<string> {
    const temp = await this.tempPath();
    await writeFile(temp, text);
    await rename(temp, join(this.dir, name));
    return join(this.dir, name);
  }

  /** Every manifest, sorted by app then version semantics. */
  async list(): Promise<StoredRelease[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const manifests = await Promise.all(
      names.filter((n) => n.endsWith('.tar.gz.json')).map(async (n) => JSON.parse(await readFile(join(this.dir, n), 'utf8')) as StoredRelease),
    );
    return manifests.sort((a, b) => a.app.localeCompare(b.app) || compareVersions(a.version, b.version) || a.type.localeCompare(b.type));
  }

  /** A fresh temp path inside the store (same filesystem, so `commit` can rename). */
  async tempPath(): Promise<string> {
    await mkdir(join(this.dir, '.tmp'), { recursive: true });
    return join(this.dir, '.tmp', randomUUID());
  }

  /** Moves a verified temp file under its final name, then writes its manifest. Repeatable. */
  async commit(temp: string, manifest: StoredRelease): Promise<StoredRelease> {
    await rename(temp, this.path(manifest));
    const tmpManifest = await this.tempPath();
    await writeFile(tmpManifest, `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(tmpManifest, `${this.path(manifest)}.json`);
    return manifest;
  }

  async discard(temp: string): Promise<void> {
    await rm(temp, { force: true });
  }
}
