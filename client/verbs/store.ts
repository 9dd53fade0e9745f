import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { SshPool, defaultSshAuth } from '../../activities/ssh/ssh-pool';
import { getRelease, s3SettingsFromEnv, storeFactory, type ReleaseStore } from '../../activities/store';
import { hashing } from '../../activities/store/release-store';
import type { DeliveryConfig } from '../../core/config/schema';
import { CorruptReleaseError, FerryError, InputError } from '../../core/domain/errors';
import { compareVersions, releaseFileName, version as toVersion, type StoredRelease } from '../../core/domain/release';
import { describeStore } from '../../core/domain/store';
import { sshOf } from '../requests';
import { loadConfig, type GlobalOptions, type VerbContext } from './common';

/**
 * The store verbs work on the store directly from the CLI's machine, with the same credentials a worker uses: the
 * standard AWS variables and the SSH keys and known_hosts of this user (never keys from RELEASE_STORE).
 */
async function withStore<T>(ctx: VerbContext, config: DeliveryConfig, fn: (store: ReleaseStore) => Promise<T>): Promise<T> {
  const ssh = new SshPool(defaultSshAuth(ctx.env));
  const store = storeFactory({ ssh, s3: s3SettingsFromEnv(ctx.env) })(config.releaseStore, sshOf(config));
  try {
    return await fn(store);
  } finally {
    store.close?.();
    await ssh.close();
  }
}

/** A Ferry failure the user can act on: printed as `ferry: <message>`, exit 1. */
function failed(ctx: VerbContext, err: unknown): number {
  if (err instanceof InputError || !(err instanceof FerryError)) throw err;
  ctx.err?.write(`ferry: ${err.message}\n`);
  return 1;
}

const appReleases = (all: StoredRelease[], app: string) => all.filter((r) => r.app === app).sort((a, b) => compareVersions(a.version, b.version));

/** `ferry show releases [--json]`: the store's manifests of this app, sorted by version semantics. Read-only. */
export async function show(ctx: VerbContext, what: string, opts: GlobalOptions): Promise<number> {
  if (what !== 'releases') throw new InputError(`ferry show ${what}: unknown; try \`ferry show releases\``);
  const config = await loadConfig(opts, ctx);
  const releases = appReleases(await withStore(ctx, config, (s) => s.list()), config.app);
  if (opts.json) {
    ctx.out.write(`${JSON.stringify(releases)}\n`);
    return 0;
  }
  if (releases.length === 0) {
    ctx.out.write(`no releases of ${config.app} in ${describeStore(config.releaseStore)}; build one with \`ferry build release\`\n`);
    return 0;
  }
  const rows = releases.map((r) => [
    r.version,
    r.type,
    r.gitRevision?.slice(0, 10) ?? '',
    `${(r.size / 1024 / 1024).toFixed(1)} MB`,
    r.builtAt.replace('T', ' ').slice(0, 19),
  ]);
  const head = ['VERSION', 'TYPE', 'REVISION', 'SIZE', 'BUILT (UTC)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [head, ...rows]) ctx.out.write(`${row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
  return 0;
}

/** sha256 of a local file, streamed. */
async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * `ferry upload release <version> [file]`: puts a release tarball (default `<app>_<vsn>.release.tar.gz` here) into the
 * store with its manifest. The same bytes already stored are not sent again.
 */
export async function upload(ctx: VerbContext, versionText: string, file: string | undefined, opts: GlobalOptions): Promise<number> {
  const v = toVersion(versionText);
  const config = await loadConfig(opts, ctx);
  const local = path.resolve(ctx.cwd, file ?? releaseFileName({ app: config.app, version: v }));
  if (!(await stat(local).catch(() => undefined))?.isFile()) throw new InputError(`${local} is not a file: give the tarball as \`ferry upload release ${v} FILE\``);
  const sha256 = await fileSha256(local);
  return withStore(ctx, config, async (store) => {
    try {
      const existing = await store.head({ app: config.app, version: v });
      if (existing?.sha256 === sha256) {
        ctx.out.write(opts.json ? `${JSON.stringify({ ...existing, sent: false })}\n` : `${config.app} ${v} is already in ${store.name} with the same sha256; nothing sent\n`);
        return 0;
      }
      const stored = await store.put(local, { app: config.app, version: v, type: 'release', sha256, builtAt: new Date().toISOString() });
      ctx.out.write(opts.json ? `${JSON.stringify({ ...stored, sent: true })}\n` : `uploaded ${config.app} ${v} to ${stored.storeKey} (sha256 ${sha256.slice(0, 16)}…)\n`);
      return 0;
    } catch (err) {
      return failed(ctx, err);
    }
  });
}

/**
 * `ferry download release <version> [file]`: streams a stored release to a local file (default
 * `<app>_<vsn>.release.tar.gz` here) through `<file>.partial`, renamed only when its sha256 matches the manifest.
 */
export async function download(ctx: VerbContext, versionText: string, file: string | undefined, opts: GlobalOptions): Promise<number> {
  const v = toVersion(versionText);
  const config = await loadConfig(opts, ctx);
  const local = path.resolve(ctx.cwd, file ?? releaseFileName({ app: config.app, version: v }));
  return withStore(ctx, config, async (store) => {
    const partial = `${local}.partial`;
    try {
      const manifest = await getRelease(store, { app: config.app, version: v });
      const h = hashing();
      await pipeline(await store.openRead(manifest), h, createWriteStream(partial));
      if (h.sha256() !== manifest.sha256) {
        throw new CorruptReleaseError(
          `${store.name}: ${releaseFileName(manifest)} has sha256 ${h.sha256()}, its manifest says ${manifest.sha256}: the stored object is corrupt; nothing was written to ${local}`,
        );
      }
      await rename(partial, local);
      ctx.out.write(opts.json ? `${JSON.stringify({ ...manifest, file: local })}\n` : `downloaded ${config.app} ${v} to ${local} (sha256 verified)\n`);
      return 0;
    } catch (err) {
      return failed(ctx, err);
    } finally {
      await rm(partial, { force: true });
    }
  });
}

/** `ferry prune --keep=N`: removes all but the N newest releases of this app (by version semantics) from the store. */
export async function pruneStore(ctx: VerbContext, keep: number, opts: GlobalOptions): Promise<number> {
  const config = await loadConfig(opts, ctx);
  return withStore(ctx, config, async (store) => {
    const releases = appReleases(await store.list(), config.app);
    const doomed = releases.slice(0, Math.max(0, releases.length - keep));
    for (const r of doomed) await store.delete(r);
    const kept = releases.slice(doomed.length).map((r) => r.version);
    if (opts.json) ctx.out.write(`${JSON.stringify({ removed: doomed.map((r) => r.version), kept })}\n`);
    else ctx.out.write(`${store.name}: removed ${doomed.length ? doomed.map((r) => r.version).join(', ') : 'nothing'}; kept ${kept.join(', ') || 'nothing'}\n`);
    return 0;
  });
}
