import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { releaseFileName, type ReleaseRef, type StoredRelease } from '../../core/domain/release';
import { expectSha256, hashing, manifestText, parseManifest, sortReleases, type NewRelease, type ReleaseStore } from './release-store';

/**
 * A release store in a local directory (edeliver's default `.deliver/releases`): each tarball beside a JSON manifest.
 * Writes go to a temp name and are renamed, so a crash never leaves a half file under a final name.
 */
export class LocalStore implements ReleaseStore {
  readonly kind = 'local' as const;
  readonly name: string;

  constructor(readonly dir: string) {
    this.name = dir;
  }

  /** Absolute path of a release tarball in the store. */
  path(ref: ReleaseRef): string {
    return join(this.dir, releaseFileName(ref));
  }

  async head(ref: ReleaseRef): Promise<StoredRelease | undefined> {
    try {
      return parseManifest(await readFile(`${this.path(ref)}.json`, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async list(): Promise<StoredRelease[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const manifests = await Promise.all(
      names.filter((n) => n.endsWith('.tar.gz.json')).map(async (n) => parseManifest(await readFile(join(this.dir, n), 'utf8'))),
    );
    return sortReleases(manifests);
  }

  async put(file: string, release: NewRelease, onBytes?: (n: number) => void): Promise<StoredRelease> {
    const temp = await this.tempPath();
    try {
      const h = hashing(onBytes);
      await pipeline(createReadStream(file), h, createWriteStream(temp));
      expectSha256(file, h.sha256(), release.sha256);
      const manifest: StoredRelease = { ...release, size: h.bytes(), storeKey: this.path(release) };
      await rename(temp, this.path(release));
      const tmpManifest = await this.tempPath();
      await writeFile(tmpManifest, manifestText(manifest));
      await rename(tmpManifest, `${this.path(release)}.json`);
      return manifest;
    } finally {
      await rm(temp, { force: true });
    }
  }

  async openRead(ref: ReleaseRef): Promise<ReadStream> {
    const stream = createReadStream(this.path(ref));
    await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
    return stream;
  }

  async putText(name: string, text: string): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const temp = await this.tempPath();
    await writeFile(temp, text);
    await rename(temp, join(this.dir, name));
    return join(this.dir, name);
  }

  async delete(ref: ReleaseRef): Promise<void> {
    await rm(`${this.path(ref)}.json`, { force: true });
    await rm(this.path(ref), { force: true });
  }

  /** A fresh temp path inside the store (same filesystem, so the commit can rename). */
  private async tempPath(): Promise<string> {
    await mkdir(join(this.dir, '.tmp'), { recursive: true });
    return join(this.dir, '.tmp', randomUUID());
  }
}
