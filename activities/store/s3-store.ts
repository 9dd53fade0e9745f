import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { releaseFileName, type ReleaseRef, type StoredRelease } from '../../core/domain/release';
import { describeStore } from '../../core/domain/store';
import { expectSha256, hashing, manifestText, parseManifest, sortReleases, type NewRelease, type ReleaseStore } from './release-store';

/** How the process reaches S3: from its own environment only (never from workflow input). */
export interface S3Settings {
  region: string;
  /** AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL: an S3-compatible server; such servers are addressed path-style. */
  endpoint?: string;
  /** AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; without them the SDK's default chain (profile, instance role) applies. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** FERRY_S3_PRESIGNED_URLS=0: hosts cannot reach the endpoint, so the worker streams every release to them. */
  presignedUrls?: boolean;
}

/** The standard AWS variables of a process, read by the worker's and the CLI's composition roots. */
export function s3SettingsFromEnv(env: NodeJS.ProcessEnv): S3Settings {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env;
  return {
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    endpoint: env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL,
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } : undefined,
    presignedUrls: !/^(0|false|no)$/i.test(env.FERRY_S3_PRESIGNED_URLS ?? ''),
  };
}

/** A release store in an S3 bucket (AWS SDK v3, SigV4): `<prefix>/<app>_<vsn>.release.tar.gz` beside its `.json` manifest. */
export class S3Store implements ReleaseStore {
  readonly kind = 's3' as const;
  readonly name: string;
  /** Absent when the settings turn presigned delivery off: hosts then get the bytes through the worker. */
  readonly presignedUrl?: (ref: ReleaseRef, seconds: number) => Promise<string>;
  private readonly client: S3Client;

  constructor(
    readonly bucket: string,
    readonly prefix: string,
    settings: S3Settings,
  ) {
    this.name = describeStore({ kind: 's3', bucket, prefix });
    this.client = new S3Client({
      region: settings.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint, forcePathStyle: true } : {}),
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
    });
    if (settings.presignedUrls !== false) {
      this.presignedUrl = (ref, seconds) =>
        getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.key(ref) }), { expiresIn: seconds });
    }
  }

  key(ref: ReleaseRef): string {
    return `${this.prefix ? `${this.prefix}/` : ''}${releaseFileName(ref)}`;
  }

  async head(ref: ReleaseRef): Promise<StoredRelease | undefined> {
    return this.manifest(`${this.key(ref)}.json`);
  }

  async list(): Promise<StoredRelease[]> {
    const prefix = this.prefix ? `${this.prefix}/` : '';
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        const rest = o.Key?.slice(prefix.length) ?? '';
        if (rest.endsWith('.tar.gz.json') && !rest.includes('/')) keys.push(o.Key!);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const manifests = await Promise.all(keys.map((k) => this.manifest(k)));
    return sortReleases(manifests.filter((m): m is StoredRelease => m !== undefined));
  }

  async put(file: string, rel: NewRelease, onBytes?: (n: number) => void): Promise<StoredRelease> {
    const key = this.key(rel);
    // Checked before the upload too: bad bytes must not replace a good object under the same key.
    expectSha256(file, await fileSha256(file), rel.sha256);
    const h = hashing(onBytes);
    const source = createReadStream(file);
    source.once('error', (err) => h.destroy(err));
    // Multipart for large files (8 MiB parts), one PUT for small ones; the object appears only when it is complete.
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: source.pipe(h), ContentType: 'application/gzip', Metadata: { sha256: rel.sha256 } },
      partSize: 8 * 1024 * 1024,
      queueSize: 4,
    });
    await upload.done();
    try {
      // The file changed while it was sent.
      expectSha256(file, h.sha256(), rel.sha256);
    } catch (err) {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
      throw err;
    }
    const manifest: StoredRelease = { ...rel, size: h.bytes(), storeKey: `s3://${this.bucket}/${key}` };
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: `${key}.json`, Body: manifestText(manifest), ContentType: 'application/json' }),
    );
    return manifest;
  }

  async openRead(ref: ReleaseRef): Promise<Readable> {
    const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(ref) }));
    return r.Body as Readable;
  }

  async putText(name: string, text: string): Promise<string> {
    const key = `${this.prefix ? `${this.prefix}/` : ''}${name}`;
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: text, ContentType: 'text/plain; charset=utf-8' }));
    return `s3://${this.bucket}/${key}`;
  }

  async delete(ref: ReleaseRef): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: `${this.key(ref)}.json` }));
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(ref) }));
  }

  /** Closes the SDK's sockets. */
  close(): void {
    this.client.destroy();
  }

  private async manifest(key: string): Promise<StoredRelease | undefined> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return parseManifest(await r.Body!.transformToString());
    } catch (err) {
      if (err instanceof NoSuchKey || (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404)) return undefined;
      throw err;
    }
  }
}

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
