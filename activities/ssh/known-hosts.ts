import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** One host key that known_hosts accepts for a host, or one it revokes. */
export interface KnownKey {
  type: string;
  /** base64 of the key blob, as in the file. */
  key: string;
  revoked: boolean;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export const knownHostsName = (address: string, port: number): string => {
  // OpenSSH compares names in lower case and writes IPv6 addresses without brackets on port 22.
  const host = address.replace(/^\[|\]$/g, '').toLowerCase();
  return port === 22 ? host : `[${host}]:${port}`;
};

/** Reads the keys a known_hosts file holds for one host (plain, hashed `|1|` and wildcard entries). Missing file: none. */
export function knownKeysFor(file: string, address: string, port: number): KnownKey[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const name = knownHostsName(address, port);
  const keys: KnownKey[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let marker: string | undefined;
    if (fields[0]?.startsWith('@')) marker = fields.shift();
    const [patterns, type, key] = fields;
    if (!patterns || !type || !key || marker === '@cert-authority') continue;
    if (matchesHost(patterns, name)) keys.push({ type, key, revoked: marker === '@revoked' });
  }
  return keys;
}

function matchesHost(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) {
    const [, , salt = '', hash = ''] = patterns.split('|');
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const pattern of patterns.split(',')) {
    const negated = pattern.startsWith('!');
    const glob = negated ? pattern.slice(1) : pattern;
    const re = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
    const plain = re.test(name);
    if (plain && negated) return false;
    if (plain) matched = true;
  }
  return matched;
}
