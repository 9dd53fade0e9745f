import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SshPool, defaultSshAuth } from '../../activities/ssh/ssh-pool';
import { getRelease, s3SettingsFromEnv, storeFactory, type ReleaseStore } from '../../activities/store';
import { hashing, sortReleases } from '../../activities/store/release-store';
import type { DeliveryConfig } from '../../core/config/schema';
import { CorruptReleaseError, FerryError, InputError } from '../../core/domain/errors';
import { generatedAppupName, releaseFileName, version as toVersion, type StoredRelease } from '../../core/domain/release';
import { describeStore } from '../../core/domain/store';
import { planReport } from '../plan-report';
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

const appReleases = (all: StoredRelease[], app: string) => sortReleases(all.filter((r) => r.app === app));

/** `--from` and `--to` of `ferry show upgrade-plan`. */
export interface ShowOptions extends GlobalOptions {
  from?: string;
  to?: string;
}

/**
 * `ferry show releases [--json]`: the store's manifests of this app, oldest first by `sortReleases`. `ferry show appups
 * <version>`: the appups of an upgrade; `relup`, its relup; `upgrade-plan --from --to`, its plan. Read-only.
 */
export async function show(ctx: VerbContext, what: string, v: string | undefined, opts: ShowOptions): Promise<number> {
  if (what === 'upgrade-plan') return showUpgradePlan(ctx, v, opts);
  if (opts.from !== undefined || opts.to !== undefined) throw new InputError(`ferry show ${what}: --from and --to belong to \`ferry show upgrade-plan\``);
  if (what === 'appups') return showAppups(ctx, v, opts);
  if (what === 'relup') return showRelup(ctx, v, opts);
  if (what !== 'releases') {
    throw new InputError(
      `ferry show ${what}: unknown; try \`ferry show releases\`, \`ferry show appups <version>\`, \`ferry show relup <version>\` or \`ferry show upgrade-plan --from=<version> --to=<version>\``,
    );
  }
  if (v !== undefined) throw new InputError('usage: ferry show releases');
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
    r.type === 'upgrade' ? `upgrade from ${r.fromVersion ?? '?'}` : r.type,
    r.gitRevision?.slice(0, 10) ?? '',
    `${(r.size / 1024 / 1024).toFixed(1)} MB`,
    r.builtAt.replace('T', ' ').slice(0, 19),
  ]);
  const head = ['VERSION', 'TYPE', 'REVISION', 'SIZE', 'BUILT (UTC)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [head, ...rows]) ctx.out.write(`${row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
  return 0;
}

/** The stored upgrade to `v`, as an InputError (exit 2) when the store has none. */
async function storedUpgrade(ctx: VerbContext, config: DeliveryConfig, v: string): Promise<{ upgrade: StoredRelease; storeName: string }> {
  return withStore(ctx, config, async (s) => ({
    upgrade: await getRelease(s, { app: config.app, version: toVersion(v), type: 'upgrade' }).catch((err: Error) => {
      throw new InputError(err.message);
    }),
    storeName: s.name,
  }));
}

/**
 * `ferry show appups <version>`: the appup of every application the upgrade to `version` changed, and whether each is
 * the application's own or one Ferry generated. Manifests from before per-application appups show their one appup.
 */
async function showAppups(ctx: VerbContext, v: string | undefined, opts: GlobalOptions): Promise<number> {
  if (v === undefined) throw new InputError('usage: ferry show appups <version> (the version an upgrade goes to; see `ferry show releases`)');
  const config = await loadConfig(opts, ctx);
  const { upgrade, storeName } = await storedUpgrade(ctx, config, v);
  const appups = upgrade.appups ?? (upgrade.appup ? [upgrade.appup] : []);
  if (opts.json) ctx.out.write(`${JSON.stringify({ version: upgrade.version, fromVersion: upgrade.fromVersion, appups })}\n`);
  else if (appups.length === 0) ctx.out.write(`the upgrade to ${upgrade.version} records no appup\n`);
  else {
    const texts = appups.map((appup) => {
      const app = upgrade.plan?.apps.find((a) => a.app === appup.app);
      const where = appup.source === 'generated'
        ? `generated by Ferry; kept as ${storeName}/${upgrade.appups ? generatedAppupName(upgrade, appup.app) : `${releaseFileName(upgrade)}.appup`}`
        : `the application's own ebin/${appup.app}.appup`;
      return `${appup.app} ${app?.from ?? upgrade.fromVersion ?? '?'} -> ${app?.to ?? upgrade.version} (${where}):\n${appup.text.trimEnd()}\n`;
    });
    ctx.out.write(texts.join('\n'));
  }
  return 0;
}

/**
 * `ferry show upgrade-plan --from=X --to=Y [--json]`: the preflight of the stored upgrade to Y, which must be from X,
 * as Ferry computed it when the upgrade was built. Read-only.
 */
async function showUpgradePlan(ctx: VerbContext, v: string | undefined, opts: ShowOptions): Promise<number> {
  const usage = 'usage: ferry show upgrade-plan --from=<version> --to=<version> (an upgrade in the store; see `ferry show releases`)';
  if (v !== undefined || opts.from === undefined || opts.to === undefined) throw new InputError(usage);
  const [from, to] = [toVersion(opts.from), toVersion(opts.to)];
  const config = await loadConfig(opts, ctx);
  const { upgrade, storeName } = await storedUpgrade(ctx, config, to);
  if (upgrade.fromVersion !== from) {
    throw new InputError(
      `the upgrade to ${to} in ${storeName} is from ${upgrade.fromVersion ?? 'an unknown version'}, not ${from}: ` +
        `\`ferry show upgrade-plan --from=${upgrade.fromVersion ?? '?'} --to=${to}\` shows its plan; \`ferry build upgrade --with=${from} --to=<revision>\` builds one from ${from}`,
    );
  }
  if (!upgrade.plan) {
    ctx.err?.write(`ferry: the upgrade ${from} -> ${to} in ${storeName} has no upgrade plan: it was built before Ferry computed plans; build it again (\`ferry build upgrade --with=${from} --to=<revision>\`) to get one\n`);
    return 1;
  }
  ctx.out.write(opts.json ? `${JSON.stringify(upgrade.plan)}\n` : planReport(config.app, upgrade.plan));
  return 0;
}

/**
 * `ferry show relup <version>`: the relup of the stored upgrade to `version` (`releases/<vsn>/relup` inside its
 * tarball, streamed from the store through the system's tar). Read-only.
 */
async function showRelup(ctx: VerbContext, v: string | undefined, opts: GlobalOptions): Promise<number> {
  if (v === undefined) throw new InputError('usage: ferry show relup <version> (the version an upgrade goes to; see `ferry show releases`)');
  const config = await loadConfig(opts, ctx);
  const ref = { app: config.app, version: toVersion(v), type: 'upgrade' as const };
  const { upgrade, relup } = await withStore(ctx, config, async (s) => {
    const found = await getRelease(s, ref).catch((err: Error) => {
      throw new InputError(err.message);
    });
    return { upgrade: found, relup: await readTarEntry(await s.openRead(ref), `releases/${ref.version}/relup`) };
  });
  if (opts.json) ctx.out.write(`${JSON.stringify({ version: upgrade.version, fromVersion: upgrade.fromVersion, relup })}\n`);
  else ctx.out.write(`relup of ${config.app} ${upgrade.fromVersion ?? '?'} -> ${upgrade.version}:\n${relup.trimEnd()}\n`);
  return 0;
}

/** One file of a gzipped tarball, read from a stream by `tar -xzO` (the member name is an argument, never shell text). */
async function readTarEntry(tarball: Readable, member: string): Promise<string> {
  const tar = spawn('tar', ['-xzOf', '-', '--', member], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  tar.stdout.on('data', (d: Buffer) => out.push(d));
  tar.stderr.on('data', (d: Buffer) => err.push(d));
  const exited = new Promise<number | null>((resolve) => tar.on('close', resolve));
  await pipeline(tarball, tar.stdin).catch(() => undefined); // tar may stop reading once it has the member
  const code = await exited;
  if (code !== 0) throw new CorruptReleaseError(`the upgrade tarball has no ${member}: ${Buffer.concat(err).toString().trim()}`);
  return Buffer.concat(out).toString();
}

/** sha256 of a local file, streamed. */
async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** What `upload` and `download` move: a full release, or an upgrade (a release tarball with a relup). */
export type Artifact = 'release' | 'upgrade';

/**
 * `ferry upload release|upgrade <version> [file]`: puts a tarball (default `<app>_<vsn>.<artifact>.tar.gz` here) into
 * the store with its manifest. An upgrade must hold `releases/<vsn>/relup`; its from-version is read from it. The same
 * bytes already stored are not sent again.
 */
export async function upload(ctx: VerbContext, artifact: Artifact, versionText: string, file: string | undefined, opts: GlobalOptions): Promise<number> {
  const v = toVersion(versionText);
  const config = await loadConfig(opts, ctx);
  const ref = { app: config.app, version: v, type: artifact };
  const local = path.resolve(ctx.cwd, file ?? releaseFileName(ref));
  if (!(await stat(local).catch(() => undefined))?.isFile()) throw new InputError(`${local} is not a file: give the tarball as \`ferry upload ${artifact} ${v} FILE\``);
  const fromVersion = artifact === 'upgrade' ? await upgradeFromVersion(local, v) : undefined;
  const sha256 = await fileSha256(local);
  return withStore(ctx, config, async (store) => {
    try {
      const existing = await store.head(ref);
      const what = `${config.app} ${fromVersion ? `${fromVersion} -> ` : ''}${v}${artifact === 'upgrade' ? ' (upgrade)' : ''}`;
      if (existing?.sha256 === sha256) {
        ctx.out.write(opts.json ? `${JSON.stringify({ ...existing, sent: false })}\n` : `${what} is already in ${store.name} with the same sha256; nothing sent\n`);
        return 0;
      }
      const stored = await store.put(local, { ...ref, sha256, builtAt: new Date().toISOString(), ...(fromVersion ? { fromVersion } : {}) });
      ctx.out.write(opts.json ? `${JSON.stringify({ ...stored, sent: true })}\n` : `uploaded ${what} to ${stored.storeKey} (sha256 ${sha256.slice(0, 16)}…)\n`);
      return 0;
    } catch (err) {
      return failed(ctx, err);
    }
  });
}

/** The version an upgrade tarball upgrades from: the first from-version of its `releases/<v>/relup`. */
async function upgradeFromVersion(file: string, v: string): Promise<string> {
  const relup = await readTarEntry(createReadStream(file), `releases/${v}/relup`).catch(() => {
    throw new InputError(`${file} has no releases/${v}/relup: it is not an upgrade to ${v} (build one with \`ferry build upgrade\`, or upload it as a release)`);
  });
  const term = relup.replace(/^\s*%.*$/gm, ''); // systools writes a `%% coding: utf-8` line first
  const from = /^\s*\{\s*"[^"]*"\s*,\s*\[\s*\{\s*"([^"]+)"/.exec(term)?.[1];
  if (from === undefined) throw new InputError(`${file}: releases/${v}/relup names no version to upgrade from`);
  return toVersion(from);
}

/**
 * `ferry download release|upgrade <version> [file]`: streams a stored tarball to a local file (default
 * `<app>_<vsn>.<artifact>.tar.gz` here) through `<file>.partial`, renamed only when its sha256 matches the manifest.
 */
export async function download(ctx: VerbContext, artifact: Artifact, versionText: string, file: string | undefined, opts: GlobalOptions): Promise<number> {
  const v = toVersion(versionText);
  const config = await loadConfig(opts, ctx);
  const ref = { app: config.app, version: v, type: artifact };
  const local = path.resolve(ctx.cwd, file ?? releaseFileName(ref));
  return withStore(ctx, config, async (store) => {
    const partial = `${local}.partial`;
    try {
      const manifest = await getRelease(store, ref);
      const h = hashing();
      await pipeline(await store.openRead(manifest), h, createWriteStream(partial));
      if (h.sha256() !== manifest.sha256) {
        throw new CorruptReleaseError(
          `${store.name}: ${releaseFileName(manifest)} has sha256 ${h.sha256()}, its manifest says ${manifest.sha256}: the stored object is corrupt; nothing was written to ${local}`,
        );
      }
      await rename(partial, local);
      const what = `${config.app} ${manifest.fromVersion ? `${manifest.fromVersion} -> ` : ''}${v}${artifact === 'upgrade' ? ' (upgrade)' : ''}`;
      ctx.out.write(opts.json ? `${JSON.stringify({ ...manifest, file: local })}\n` : `downloaded ${what} to ${local} (sha256 verified)\n`);
      return 0;
    } catch (err) {
      return failed(ctx, err);
    } finally {
      await rm(partial, { force: true });
    }
  });
}

/**
 * `ferry prune --keep=N`: removes all but the N newest versions of this app (by `sortReleases`) from the store; a
 * version's release and its upgrade go or stay together.
 */
export async function pruneStore(ctx: VerbContext, keep: number, opts: GlobalOptions): Promise<number> {
  const config = await loadConfig(opts, ctx);
  return withStore(ctx, config, async (store) => {
    const artifacts = appReleases(await store.list(), config.app);
    const versions = [...new Set(artifacts.map((r) => r.version))];
    const removed = versions.slice(0, Math.max(0, versions.length - keep));
    const kept = versions.slice(removed.length);
    for (const r of artifacts.filter((a) => removed.includes(a.version))) await store.delete(r);
    if (opts.json) ctx.out.write(`${JSON.stringify({ removed, kept })}\n`);
    else ctx.out.write(`${store.name}: removed ${removed.length ? removed.join(', ') : 'nothing'}; kept ${kept.join(', ') || 'nothing'}\n`);
    return 0;
  });
}
