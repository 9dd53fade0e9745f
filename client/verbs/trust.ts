import { createInterface } from 'node:readline/promises';
import { authOf } from '../../activities/ssh/auth';
import { addKnownHost, knownState, type ScannedKey } from '../../activities/ssh/host-key';
import { knownHostsName } from '../../activities/ssh/known-hosts';
import { defaultSshAuth, SshPool, type Route } from '../../activities/ssh/ssh-pool';
import { environmentOf } from '../../core/config/parse';
import { InputError } from '../../core/domain/errors';
import type { SshTarget } from '../../core/domain/host';
import { sshOf } from '../requests';
import { loadConfig, type GlobalOptions, type VerbContext } from './common';

/**
 * `ferry trust <env> [--yes]`: shows each host's key fingerprint and adds the unknown ones to the known_hosts file
 * Ferry uses, after confirmation. Never replaces a key that differs: that needs a person and `ssh-keygen -R`.
 * Hosts are reached as every other step reaches them (the SSH config, jump hosts); jump hosts come first, since a
 * host behind one can only be scanned once the jump host's own key is trusted.
 */
export async function trust(ctx: VerbContext, env: string, opts: GlobalOptions & { yes?: boolean; build?: boolean }): Promise<number> {
  const config = await loadConfig(opts, ctx);
  const override = authOf(sshOf(config));
  const ssh = new SshPool(defaultSshAuth(ctx.env));
  try {
    const hosts = [...(opts.build ? [config.buildHost] : []), ...environmentOf(config, env).hosts];
    let problems = 0;
    for (const level of byJumps(ssh, hosts, override)) {
      const scanned = await Promise.all(level.map(async ({ host, jump }) => ({ host, jump, found: await ssh.scanKey(host, override).catch((e: Error) => e) })));
      const toAdd: Array<{ route: Route; key: ScannedKey }> = [];
      for (const { host, jump, found } of scanned) {
        const label = `${host.name}${jump ? ' (jump host)' : ''}`.padEnd(24);
        if (found instanceof Error) {
          ctx.out.write(`✗ ${label} ${found.message}\n`);
          problems++;
          continue;
        }
        const { route, key } = found;
        const file = route.knownHostsFile;
        const state = knownState(file, route, key);
        if (state === 'known') ctx.out.write(`✓ ${label} ${key.type} ${key.fingerprint} already in ${file}\n`);
        else if (state === 'mismatch') {
          ctx.out.write(
            `✗ ${label} ${key.type} ${key.fingerprint} DIFFERS from ${file}; if the host was reinstalled, check the new key on the host and run: ssh-keygen -R '${knownHostsName(route.address, route.port)}' -f ${file}\n`,
          );
          problems++;
        } else {
          ctx.out.write(`? ${label} ${key.type} ${key.fingerprint} is new\n`);
          toAdd.push(found);
        }
      }
      if (toAdd.length === 0) continue;
      const files = [...new Set(toAdd.map((a) => a.route.knownHostsFile))].join(', ');
      const question = `Add ${toAdd.length} key(s) to ${files}? Compare each fingerprint with \`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub\` on the host first. [y/N] `;
      if (!(opts.yes || (await confirm(ctx, question)))) throw new InputError(`nothing added to ${files}: confirm with --yes (after checking the fingerprints above)`);
      for (const { route, key } of toAdd) addKnownHost(route.knownHostsFile, route, key);
      ctx.out.write(`added ${toAdd.length} key(s) to ${files}\n`);
    }
    return problems === 0 ? 0 : 1;
  } finally {
    await ssh.close();
  }
}

/**
 * The hosts with the jump hosts in front of them, each once (by address, port and known_hosts file), in levels: the
 * hosts reached directly first, then those behind one jump host, and so on.
 */
function byJumps(ssh: SshPool, hosts: SshTarget[], override: ReturnType<typeof authOf>): Array<Array<{ host: SshTarget; jump: boolean }>> {
  const seen = new Map<string, { host: SshTarget; jump: boolean; depth: number }>();
  for (const host of hosts) {
    const chain: SshTarget[] = [host];
    for (let r = ssh.route(host, override); r.via; r = ssh.route(r.via, override)) chain.unshift(r.via);
    chain.forEach((h, depth) => {
      const r = ssh.route(h, override);
      const key = `${knownHostsName(r.address, r.port)} ${r.knownHostsFile}`;
      const jump = depth < chain.length - 1;
      const entry = seen.get(key) ?? { host: h, jump, depth };
      // A host that is also a target is shown as one; it is scanned at the shallowest depth it has.
      seen.set(key, { host: entry.jump ? h : entry.host, jump: entry.jump && jump, depth: Math.min(entry.depth, depth) });
    });
  }
  const levels: Array<Array<{ host: SshTarget; jump: boolean }>> = [];
  for (const { depth, ...item } of seen.values()) (levels[depth] ??= []).push(item);
  return levels.filter(Boolean);
}

/** Asks on the terminal; without one there is nobody to ask, so the answer is no. */
async function confirm(ctx: VerbContext, question: string): Promise<boolean> {
  if (!process.stdin.isTTY || !ctx.out.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
