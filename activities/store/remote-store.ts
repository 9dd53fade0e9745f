import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { and } from '../../core/commands/shell';
import * as store from '../../core/commands/store';
import * as release from '../../core/commands/release';
import type { SshTarget } from '../../core/domain/host';
import { releaseFileName, type ReleaseRef, type StoredRelease } from '../../core/domain/release';
import type { SshAuth, SshPool } from '../ssh/ssh-pool';
import { expectSha256, manifestText, parseManifest, sortReleases, type NewRelease, type ReleaseStore } from './release-store';

/**
 * A release store in a directory on a host (edeliver's `RELEASE_STORE=user@host:/path`), over the worker's SSH pool.
 * Uploads go to `.tmp/` on the host, are checked there with sha256sum, then renamed; the manifest is written last.
 */
export class RemoteStore implements ReleaseStore {
  readonly kind = 'remote' as const;
  readonly name: string;

  constructor(
    private readonly ssh: SshPool,
    readonly host: SshTarget,
    readonly dir: string,
    private readonly auth?: Partial<SshAuth>,
  ) {
    this.name = `${host.user}@${host.name}:${dir}`;
  }

  path(ref: ReleaseRef): string {
    return `${this.dir}/${releaseFileName(ref)}`;
  }

  async head(ref: ReleaseRef): Promise<StoredRelease | undefined> {
    const r = await this.ssh.run(this.host, store.readIfPresent(`${this.path(ref)}.json`), {}, this.auth);
    return r.stdout.trim() ? parseManifest(r.stdout) : undefined;
  }

  async list(): Promise<StoredRelease[]> {
    const r = await this.ssh.run(this.host, store.listManifests(this.dir), {}, this.auth);
    return sortReleases(r.stdout.split('\0').filter((t) => t.trim() !== '').map(parseManifest));
  }

  async put(file: string, rel: NewRelease, onBytes?: (n: number) => void): Promise<StoredRelease> {
    const final = this.path(rel);
    const temp = `${this.dir}/.tmp/${randomUUID()}`;
    await this.ssh.run(this.host, store.prepare(this.dir), {}, this.auth);
    try {
      let size = 0;
      const sent = await this.ssh.putFile(this.host, file, temp, (n) => ((size = n), onBytes?.(n)), this.auth);
      expectSha256(file, sent, rel.sha256);
      // The store host checks what it received before the rename, as a target host does.
      await this.ssh.run(this.host, and(...release.verifyAndPlace(temp, final, rel.sha256)), {}, this.auth);
      const manifest: StoredRelease = { ...rel, size, storeKey: `${this.name}/${releaseFileName(rel)}` };
      const tmpManifest = `${temp}.json`;
      await this.ssh.run(this.host, store.writeStdin(tmpManifest), { stdin: manifestText(manifest) }, this.auth);
      await this.ssh.run(this.host, store.place(tmpManifest, `${final}.json`), {}, this.auth);
      return manifest;
    } finally {
      await this.ssh.run(this.host, store.remove(temp, `${temp}.json`), { allowFailure: true }, this.auth).catch(() => undefined);
    }
  }

  openRead(ref: ReleaseRef): Promise<Readable> {
    return this.ssh.readStream(this.host, this.path(ref), this.auth);
  }

  async putText(name: string, text: string): Promise<string> {
    const temp = `${this.dir}/.tmp/${randomUUID()}`;
    await this.ssh.run(this.host, store.prepare(this.dir), {}, this.auth);
    await this.ssh.run(this.host, store.writeStdin(temp), { stdin: text }, this.auth);
    await this.ssh.run(this.host, store.place(temp, `${this.dir}/${name}`), {}, this.auth);
    return `${this.name}/${name}`;
  }

  async delete(ref: ReleaseRef): Promise<void> {
    await this.ssh.run(this.host, store.remove(`${this.path(ref)}.json`, this.path(ref)), {}, this.auth);
  }
}
