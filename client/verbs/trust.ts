import { createInterface } from 'node:readline/promises';
import { addKnownHost, knownState, scanHostKey } from '../../activities/ssh/host-key';
import { defaultSshAuth } from '../../activities/ssh/ssh-pool';
import { environmentOf } from '../../core/config/parse';
import { InputError } from '../../core/domain/errors';
import type { SshTarget } from '../../core/domain/host';
import { loadConfig, type GlobalOptions, type VerbContext } from './common';

/**
 * `ferry trust <env> [--yes]`: shows each host's key fingerprint and adds the unknown ones to the known_hosts file
 * Ferry uses, after confirmation. Never replaces a key that differs: that needs a person and `ssh-keygen -R`.
 */
export async function trust(ctx: VerbContext, env: string, opts: GlobalOptions & { yes?: boolean; build?: boolean }): Promise<number> {
  const config = await loadConfig(opts, ctx);
  const file = config.ssh.knownHosts ?? defaultSshAuth(ctx.env).knownHostsFile;
  const hosts: Array<[string, SshTarget]> = [
    ...(opts.build ? [['build', config.buildHost] as [string, SshTarget]] : []),
    ...environmentOf(config, env).hosts.map((h): [string, SshTarget] => [env, h]),
  ];
  const scanned = await Promise.all(hosts.map(async ([, h]) => ({ host: h, key: await scanHostKey(h).catch((e: Error) => e) })));
  const toAdd: typeof scanned = [];
  let problems = 0;
  for (const { host, key } of scanned) {
    if (key instanceof Error) {
      ctx.out.write(`✗ ${host.name.padEnd(24)} ${key.message}\n`);
      problems++;
      continue;
    }
    const state = knownState(file, host, key);
    if (state === 'known') ctx.out.write(`✓ ${host.name.padEnd(24)} ${key.type} ${key.fingerprint} already in ${file}\n`);
    else if (state === 'mismatch') {
      ctx.out.write(`✗ ${host.name.padEnd(24)} ${key.type} ${key.fingerprint} DIFFERS from ${file}; if the host was reinstalled, check the new key on the host and run: ssh-keygen -R '[${host.address}]:${host.port}' -f ${file}\n`);
      problems++;
    } else {
      ctx.out.write(`? ${host.name.padEnd(24)} ${key.type} ${key.fingerprint} is new\n`);
      toAdd.push({ host, key });
    }
  }
  if (toAdd.length > 0) {
    const confirmed = opts.yes || (await confirm(ctx, `Add ${toAdd.length} key(s) to ${file}? Compare each fingerprint with \`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub\` on the host first. [y/N] `));
    if (!confirmed) throw new InputError(`nothing added to ${file}: confirm with --yes (after checking the fingerprints above)`);
    for (const { host, key } of toAdd) if (!(key instanceof Error)) addKnownHost(file, host, key);
    ctx.out.write(`added ${toAdd.length} key(s) to ${file}\n`);
  }
  return problems === 0 ? 0 : 1;
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
