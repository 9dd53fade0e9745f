import { z } from 'zod';
import { InputError, shown } from './errors';
import { absolutePath, hostName, parseSshTarget, type SshTarget } from './host';
import { LIMITS } from './limits';

/**
 * Where releases are kept, as plain JSON that crosses the workflow boundary. It never holds credentials: the worker
 * builds the store client from this and its own environment.
 */
export type StoreDescriptor =
  | { kind: 'local'; dir: string }
  | { kind: 'remote'; host: SshTarget; path: string }
  | { kind: 's3'; bucket: string; prefix: string; endpoint?: string };

/** An RELEASE_STORE value turned into a descriptor, and whether keys were found in it (and dropped). */
export interface ParsedStore {
  store: StoreDescriptor;
  /** edeliver's `s3://KEY@SECRET:bucket` form was used: the keys are ignored and must move to the worker's env. */
  strippedCredentials: boolean;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX_PART = /^[A-Za-z0-9._@+-]+$/;
/** edeliver: `s3://AWS_ACCESS_KEY_ID@AWS_SECRET_ACCESS_KEY:bucket[/prefix]`; the plain form has no `KEY@SECRET:`. */
const S3_URL = /^s3:\/\/(?:([^@/:]+)@([^@:]+):)?([^/]*)(?:\/(.*))?$/;
const REMOTE = /^([^/\s]+):(\/.*)$/;

/** The text of a RELEASE_STORE value with any keys replaced, safe for messages and logs. */
export function redactStore(text: string): string {
  const m = S3_URL.exec(text);
  return m?.[1] !== undefined ? `s3://***@***:${m[3]}${m[4] !== undefined ? `/${m[4]}` : ''}` : text;
}

/** An S3 key prefix: `a/b/c` of letters, digits and . _ @ + -; no `..`; empty means the bucket's root. */
export function s3Prefix(text: string, what: string): string {
  if (text.length > LIMITS.path) throw new InputError(`${what}: prefix ${shown(text)} is longer than ${LIMITS.path} characters`);
  const parts = text.split('/').filter((p) => p !== '');
  if (!parts.every((p) => PREFIX_PART.test(p) && p !== '..' && p !== '.')) {
    throw new InputError(`${what}: prefix ${shown(text)} must be letters, digits and . _ @ + - separated by /`);
  }
  return parts.join('/');
}

/** An http(s) URL of an S3-compatible endpoint, without credentials, query or fragment. */
export function s3Endpoint(text: string, what: string): string {
  if (text.length > LIMITS.url || (!/^https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?\/?$/.test(text) && !/^https?:\/\/\[[0-9A-Fa-f:.]+\](?::\d{1,5})?\/?$/.test(text))) {
    throw new InputError(`${what}: ${shown(text)} must be an endpoint URL like https://s3.example.com or http://127.0.0.1:9000`);
  }
  return text.replace(/\/$/, '');
}

/**
 * Pure: reads a RELEASE_STORE value. `user@host[:port]:/path` is a directory on a host reached over SSH, `s3://bucket/prefix`
 * (or edeliver's `s3://KEY@SECRET:bucket/prefix`, whose keys are dropped) a bucket, anything else a local directory,
 * relative to `projectDir`. Throws InputError with the value redacted.
 */
export function parseStore(text: string, projectDir: string, what: string, endpoint?: string): ParsedStore {
  const shown = redactStore(text);
  if (text.startsWith('s3://')) {
    const m = S3_URL.exec(text);
    const bucket = m?.[3] ?? '';
    if (!m || !BUCKET.test(bucket)) {
      throw new InputError(`${what}: "${shown}" is not an S3 store: write s3://bucket/prefix with a bucket name of a-z, 0-9, . and -`);
    }
    const prefix = s3Prefix(m[4] ?? '', what);
    return {
      store: { kind: 's3', bucket, prefix, ...(endpoint ? { endpoint: s3Endpoint(endpoint, what) } : {}) },
      strippedCredentials: m[1] !== undefined,
    };
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text)) {
    throw new InputError(`${what}: "${shown}" is not supported: use a directory, user@host:/path or s3://bucket/prefix`);
  }
  const remote = REMOTE.exec(text);
  if (remote) {
    const host = parseSshTarget(remote[1]!, undefined, what);
    return { store: { kind: 'remote', host, path: absolutePath(remote[2]!, what) }, strippedCredentials: false };
  }
  const base = projectDir.replace(/\/+$/, '');
  const parts = text.split('/').filter((p) => p !== '' && p !== '.');
  let dir: string;
  try {
    dir = absolutePath(`/${parts.join('/')}`, what);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    throw new InputError(
      `${what}: "${text}" must be a directory of letters, digits and . _ @ + -, absolute or relative to ${projectDir}, without ".."`,
    );
  }
  return { store: { kind: 'local', dir: text.startsWith('/') ? dir : `${base}${dir === '/' ? '' : dir}` }, strippedCredentials: false };
}

/** How messages name a store: its directory, `user@host:/path` or `s3://bucket/prefix`. Never holds a secret. */
export function describeStore(s: StoreDescriptor): string {
  switch (s.kind) {
    case 'local':
      return s.dir;
    case 'remote':
      return `${s.host.user}@${s.host.name}:${s.path}`;
    case 's3':
      return `s3://${s.bucket}${s.prefix ? `/${s.prefix}` : ''}`;
  }
}

const check =
  (fn: (s: string) => unknown) =>
  (s: string, ctx: z.RefinementCtx) => {
    try {
      fn(s);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  };

const path = z.string().superRefine(check((s) => absolutePath(s, 'path')));
const port = z.number().int().min(1).max(65535);
const storeHost = z
  .strictObject({ name: z.string().superRefine(check((s) => hostName(s, 'name'))), address: z.string().min(1), port, user: z.string().min(1), portUnset: z.literal(true).optional() })
  .superRefine((h, ctx) => check(() => parseSshTarget(`${h.user}@${h.address}:${h.port}`, undefined, 'host'))('', ctx));

/**
 * The store descriptor in workflow input. A bare absolute path is still accepted as a local store (the first
 * release of Ferry sent that, and recorded histories replay with it). No field can carry a key.
 */
export const storeDescriptorSchema = z.union([
  path.transform((dir): StoreDescriptor => ({ kind: 'local', dir })),
  z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('local'), dir: path }),
    z.strictObject({ kind: z.literal('remote'), host: storeHost, path }),
    z.strictObject({
      kind: z.literal('s3'),
      bucket: z.string().regex(BUCKET, 'must be an S3 bucket name'),
      prefix: z.string().superRefine(check((s) => s3Prefix(s, 'prefix'))),
      endpoint: z.string().superRefine(check((s) => s3Endpoint(s, 'endpoint'))).optional(),
    }),
  ]),
]);
