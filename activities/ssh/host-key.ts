import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import { Client } from 'ssh2';
import { HostUnreachableError } from '../../core/domain/errors';
import { knownHostsName, knownKeysFor } from './known-hosts';

/** A host key as the server presented it. */
export interface ScannedKey {
  type: string;
  /** base64 of the key blob, as known_hosts holds it. */
  key: string;
  /** `SHA256:...`, as `ssh-keygen -lf` prints it. */
  fingerprint: string;
}

/**
 * Connects far enough to see the host key, then hangs up before any login. Like `ssh-keyscan`, it trusts nothing.
 * `at` is an address to dial, or a stream a jump host forwarded (see SshPool.scanKey).
 */
export function scanHostKey(name: string, at: { address: string; port: number } | { sock: Duplex }, timeoutMs = 10_000): Promise<ScannedKey> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let scanned: ScannedKey | undefined;
    // Every error is handled, also a second one after the first (ssh2 emits one when a timed-out socket closes).
    const settle = (err: Error) => {
      client.destroy();
      if (scanned) resolve(scanned);
      else reject(new HostUnreachableError(`${name}: cannot connect: ${err.message}`));
    };
    client.on('error', settle);
    client.on('close', () => settle(new Error('the connection closed before the host showed its key')));
    client.once('ready', () => client.end());
    client.connect({
      ...('sock' in at ? { sock: at.sock } : { host: at.address.replace(/^\[|\]$/g, ''), port: at.port }),
      username: 'ferry-trust',
      readyTimeout: timeoutMs,
      hostVerifier: (blob: Buffer) => {
        const typeLength = blob.readUInt32BE(0);
        scanned = {
          type: blob.subarray(4, 4 + typeLength).toString(),
          key: blob.toString('base64'),
          fingerprint: `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`,
        };
        return false;
      },
    });
  });
}

/** What known_hosts says about a scanned key. */
export function knownState(file: string, host: { address: string; port: number }, scanned: ScannedKey): 'known' | 'unknown' | 'mismatch' {
  const keys = knownKeysFor(file, host.address, host.port);
  if (keys.some((k) => !k.revoked && k.key === scanned.key)) return 'known';
  // Any other entry for the host means its key changed: a person decides, never this code.
  return keys.length > 0 ? 'mismatch' : 'unknown';
}

/** Appends one `[host]:port type key` line to a known_hosts file (created with its directory if missing). */
export function addKnownHost(file: string, host: { address: string; port: number }, scanned: ScannedKey): void {
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${knownHostsName(host.address, host.port)} ${scanned.type} ${scanned.key}\n`, { mode: 0o600 });
}
