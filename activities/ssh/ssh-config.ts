import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import SSHConfig from 'ssh-config';

/** What Ferry takes from an OpenSSH client config for one host; every field is absent when the file does not set it. */
export interface SshConfigValues {
  hostName?: string;
  port?: number;
  user?: string;
  identityFiles?: string[];
  /** ProxyJump as written: `[user@]host[:port]` hops, comma-separated, or `none`. */
  proxyJump?: string;
  connectTimeoutSeconds?: number;
  userKnownHostsFile?: string;
  identitiesOnly?: boolean;
}

/**
 * The settings `file` gives the host alias `host`, as `ssh -G host` would compute them (first value wins, `Host` and
 * `Match host` patterns). `Match exec` is never run. A missing file gives nothing; `~` and the tokens %d %h %p %r %u %n
 * %% are expanded in HostName, IdentityFile and UserKnownHostsFile.
 */
export function readSshConfig(file: string, host: string, known: { user: string; port?: number }): SshConfigValues {
  // `known`: the user and port (when the project wrote one) Ferry will use, for %r and %p.
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  const c = SSHConfig.parse(text).compute({ Host: host }, { ignoreCase: true, matchExec: false });
  const one = (key: string): string | undefined => {
    const v = c[key];
    return Array.isArray(v) ? v[0] : v;
  };
  const hostName = one('hostname') ? expand(one('hostname')!, { h: host, n: host }) : undefined;
  const port = one('port') !== undefined && /^\d+$/.test(one('port')!) ? Number(one('port')) : undefined;
  const user = one('user');
  // %r is the user Ferry logs in as: the project's user wins over User.
  const tokens = { h: hostName ?? host, n: host, p: String(known.port ?? port ?? 22), r: known.user };
  const files = c.identityfile;
  const identityFiles = (Array.isArray(files) ? files : files ? [files] : []).filter((f) => f.toLowerCase() !== 'none').map((f) => expand(f, tokens));
  const timeout = one('connecttimeout');
  const knownHosts = one('userknownhostsfile')?.split(/\s+/)[0];
  const only = one('identitiesonly')?.toLowerCase();
  return {
    ...(hostName ? { hostName } : {}),
    ...(port ? { port } : {}),
    ...(user ? { user } : {}),
    ...(identityFiles.length > 0 ? { identityFiles } : {}),
    ...(one('proxyjump') ? { proxyJump: one('proxyjump') } : {}),
    ...(timeout && /^\d+$/.test(timeout) && Number(timeout) > 0 ? { connectTimeoutSeconds: Number(timeout) } : {}),
    ...(knownHosts && knownHosts.toLowerCase() !== 'none' ? { userKnownHostsFile: expand(knownHosts, tokens) } : {}),
    ...(only === 'yes' ? { identitiesOnly: true } : only === 'no' ? { identitiesOnly: false } : {}),
  };
}

/** `~/` and OpenSSH's percent tokens; an unknown token is left as it is. */
function expand(text: string, tokens: Record<string, string>): string {
  const all: Record<string, string> = { d: homedir(), u: userInfo().username, '%': '%', ...tokens };
  const withTokens = text.replace(/%(.)/g, (m, t: string) => all[t] ?? m);
  return withTokens.startsWith('~/') ? `${homedir()}${withTokens.slice(1)}` : withTokens;
}
