import { LocalStore } from '../../activities/store/local-store';
import { InputError } from '../../core/domain/errors';
import { loadConfig, type GlobalOptions, type VerbContext } from './common';

/** `ferry show releases [--json]`: the store's manifests, sorted by version semantics. */
export async function show(ctx: VerbContext, what: string, opts: GlobalOptions): Promise<number> {
  if (what !== 'releases') throw new InputError(`ferry show ${what}: unknown; try \`ferry show releases\``);
  const config = await loadConfig(opts, ctx);
  const releases = (await new LocalStore(config.releaseStore).list()).filter((r) => r.app === config.app);
  if (opts.json) {
    ctx.out.write(`${JSON.stringify(releases)}\n`);
    return 0;
  }
  if (releases.length === 0) {
    ctx.out.write(`no releases of ${config.app} in ${config.releaseStore}; build one with \`ferry build release\`\n`);
    return 0;
  }
  const rows = releases.map((r) => [r.version, r.type, r.gitRevision?.slice(0, 10) ?? '', `${(r.size / 1024 / 1024).toFixed(1)} MB`, r.builtAt.replace('T', ' ').slice(0, 19)]);
  const head = ['VERSION', 'TYPE', 'REVISION', 'SIZE', 'BUILT (UTC)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [head, ...rows]) ctx.out.write(`${row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
  return 0;
}
