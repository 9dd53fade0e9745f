import { existsSync } from 'node:fs';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { InputError } from '../core/domain/errors';

/** Where and how to reach Temporal: what both the CLI's `Connection` and the worker's `NativeConnection` accept. */
export interface TemporalSettings {
  address: string;
  namespace: string;
  /** true: TLS with the system's roots; an object: client certificate, CA, server name. */
  tls?: boolean | { serverNameOverride?: string; serverRootCACertificate?: Uint8Array; clientCertPair?: { crt: Uint8Array; key: Uint8Array } };
  apiKey?: string;
  metadata?: Record<string, string>;
  /** The profile and file the settings came from, for messages (never the key). */
  source: string;
}

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

/**
 * The Temporal CLI's own rules (`@temporalio/envconfig`): the profile TEMPORAL_PROFILE (default "default") of the TOML
 * file TEMPORAL_CONFIG_FILE (default ~/.config/temporalio/temporal.toml), then TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_GRPC_META_* over it; the local dev server when nothing is set. Used by the
 * CLI and the worker alike. Throws InputError for a missing file or profile, or an unreadable certificate.
 */
export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const vars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  const file = vars.TEMPORAL_CONFIG_FILE;
  // envconfig ignores a missing file; one the user named must exist.
  if (file !== undefined && !existsSync(file)) throw new InputError(`TEMPORAL_CONFIG_FILE: ${file} does not exist: fix the path or unset it`);
  let loaded: ReturnType<typeof loadClientConnectConfig>;
  try {
    loaded = loadClientConnectConfig({ overrideEnvVars: vars });
  } catch (err) {
    const where = file ? `${file}` : 'the Temporal config file';
    throw new InputError(`cannot read Temporal connection settings (${where}, profile ${vars.TEMPORAL_PROFILE ?? 'default'}): ${(err as Error).message}`);
  }
  const c = loaded.connectionOptions;
  const source = vars.TEMPORAL_PROFILE ? `profile ${vars.TEMPORAL_PROFILE}${file ? ` of ${file}` : ''}` : file ? `profile default of ${file}` : 'environment';
  return {
    address: c.address ?? DEFAULT_TEMPORAL_ADDRESS,
    namespace: loaded.namespace ?? 'default',
    ...(c.tls !== undefined && c.tls !== null ? { tls: c.tls as TemporalSettings['tls'] } : {}),
    ...(c.apiKey !== undefined ? { apiKey: c.apiKey as string } : {}),
    ...(c.metadata && Object.keys(c.metadata).length > 0 ? { metadata: c.metadata as Record<string, string> } : {}),
    source,
  };
}

/** The options both connection classes take; `namespace` and `source` stay with the caller. */
export function connectionOptions(s: TemporalSettings): { address: string; tls?: TemporalSettings['tls']; apiKey?: string; metadata?: Record<string, string> } {
  return {
    address: s.address,
    ...(s.tls !== undefined ? { tls: s.tls } : {}),
    ...(s.apiKey !== undefined ? { apiKey: s.apiKey } : {}),
    ...(s.metadata ? { metadata: s.metadata } : {}),
  };
}
