import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import type { MediaConfig } from '../../config.ts';

/** What storage knows about one stored file. */
export interface StoredObject {
  key: string;
  bytes: number;
  contentType: string;
}

/** A byte range, both ends included (as in HTTP's Range header). */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where media files live: the local disk or an S3-compatible bucket. Keys are
 * flat names made by Inkwell ([A-Za-z0-9._-], optionally "dir/name"); storage
 * refuses anything else, so a key can never walk out of its directory.
 */
export interface MediaStorage {
  /** Stores a file from a path on disk or a stream; an existing key is replaced. */
  put(key: string, from: { path: string } | { stream: Readable }, contentType: string): Promise<StoredObject>;
  /** The file's bytes (or a range of them), or null when there is no such key. */
  get(key: string, range?: ByteRange): Promise<{ stream: Readable; bytes: number; contentType: string } | null>;
  /** Size and type without the bytes, or null when there is no such key. */
  head(key: string): Promise<StoredObject | null>;
  /** Removes a file; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** The public URL of a key when files are served from elsewhere, or null (served through /media/). */
  publicUrl(key: string): string | null;
}

const KEY = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}\/)?[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

/** Throws on a key storage does not accept (paths, dot-dot, empty). */
export function assertKey(key: string): void {
  if (!KEY.test(key) || key.includes('..')) throw new Error(`not a media key: ${JSON.stringify(key)}`);
}

const joinUrl = (base: string | null, key: string) => (base ? `${base}/${key.split('/').map(encodeURIComponent).join('/')}` : null);

/** Files under one directory; the type is kept in the name's extension (see contentTypeOf). */
export function createLocalStorage(opts: { dir: string; publicUrl?: string | null }): MediaStorage {
  const root = resolve(opts.dir);
  const pathOf = (key: string) => {
    assertKey(key);
    const p = join(root, key);
    if (!p.startsWith(root + sep)) throw new Error(`not a media key: ${JSON.stringify(key)}`);
    return p;
  };
  const missing = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';
  return {
    async put(key, from, contentType) {
      const target = pathOf(key);
      await mkdir(dirname(target), { recursive: true });
      // Written beside the target and renamed, so a reader never sees half a file.
      const temp = `${target}.${randomBytes(6).toString('hex')}.part`;
      try {
        await pipeline('path' in from ? createReadStream(from.path) : from.stream, createWriteStream(temp, { flags: 'wx' }));
        await rename(temp, target);
      } catch (e) {
        await rm(temp, { force: true });
        throw e;
      }
      return { key, bytes: (await stat(target)).size, contentType };
    },
    async get(key, range) {
      const path = pathOf(key);
      try {
        const s = await stat(path);
        return { stream: createReadStream(path, range), bytes: s.size, contentType: contentTypeOf(key) };
      } catch (e) {
        if (missing(e)) return null;
        throw e;
      }
    },
    async head(key) {
      try {
        return { key, bytes: (await stat(pathOf(key))).size, contentType: contentTypeOf(key) };
      } catch (e) {
        if (missing(e)) return null;
        throw e;
      }
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    publicUrl: (key) => joinUrl(opts.publicUrl ?? null, key),
  };
}

/** Objects in an S3-compatible bucket (AWS, MinIO, R2, ...), through the AWS SDK. */
export function createS3Storage(opts: NonNullable<MediaConfig['s3']> & { publicUrl?: string | null }): MediaStorage & { destroy(): void } {
  // The SDK (~14 MB resident once loaded) is loaded with the first request to the bucket, not at start.
  let connecting: Promise<{ sdk: typeof import('@aws-sdk/client-s3'); client: S3Client }> | undefined;
  const connect = () =>
    (connecting ??= import('@aws-sdk/client-s3').then((sdk) => ({
      sdk,
      client: new sdk.S3Client({
        region: opts.region,
        endpoint: opts.endpoint,
        forcePathStyle: opts.forcePathStyle,
        // The SDK's default since 2025 sends bodies aws-chunked with trailing checksums, which
        // many S3-compatible servers store verbatim (chunk headers inside the file); plain
        // bodies with Content-Length work everywhere.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        credentials: opts.accessKeyId && opts.secretAccessKey ? { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey } : undefined,
      }),
    })));
  const Bucket = opts.bucket;
  const isMissing = ({ NoSuchKey, NotFound, S3ServiceException }: typeof import('@aws-sdk/client-s3'), e: unknown) =>
    e instanceof NoSuchKey ||
    e instanceof NotFound ||
    (e instanceof S3ServiceException && (e.$metadata.httpStatusCode === 404 || e.name === 'NoSuchKey' || e.name === 'NotFound'));
  return {
    /** Closes the SDK's connections, if it was ever used. */
    destroy() {
      void connecting?.then(({ client }) => client.destroy());
    },
    async put(key, from, contentType) {
      assertKey(key);
      const { sdk, client } = await connect();
      // A file is sent with its length (S3 needs one); a stream of unknown length goes
      // to a temporary file first rather than into memory.
      let temp: string | null = null;
      if (!('path' in from)) {
        temp = join(tmpdir(), `inkwell-s3-${randomBytes(8).toString('hex')}`);
        await pipeline(from.stream, createWriteStream(temp, { flags: 'wx' }));
      }
      const path = 'path' in from ? from.path : temp!;
      try {
        const size = (await stat(path)).size;
        await client.send(
          new sdk.PutObjectCommand({
            Bucket,
            Key: key,
            Body: createReadStream(path),
            ContentLength: size,
            ContentType: contentType,
            CacheControl: 'public, max-age=31536000, immutable',
          }),
        );
        return { key, bytes: size, contentType };
      } finally {
        if (temp) await rm(temp, { force: true });
      }
    },
    async get(key, range) {
      assertKey(key);
      const { sdk, client } = await connect();
      try {
        const out = await client.send(new sdk.GetObjectCommand({ Bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }));
        const total = out.ContentRange ? Number(/\/(\d+)$/.exec(out.ContentRange)?.[1]) : Number(out.ContentLength);
        return { stream: out.Body as Readable, bytes: total, contentType: out.ContentType ?? contentTypeOf(key) };
      } catch (e) {
        if (isMissing(sdk, e)) return null;
        throw e;
      }
    },
    async head(key) {
      assertKey(key);
      const { sdk, client } = await connect();
      try {
        const out = await client.send(new sdk.HeadObjectCommand({ Bucket, Key: key }));
        return { key, bytes: Number(out.ContentLength), contentType: out.ContentType ?? contentTypeOf(key) };
      } catch (e) {
        if (isMissing(sdk, e)) return null;
        throw e;
      }
    },
    async delete(key) {
      assertKey(key);
      const { sdk, client } = await connect();
      await client.send(new sdk.DeleteObjectCommand({ Bucket, Key: key }));
    },
    publicUrl: (key) => joinUrl(opts.publicUrl ?? null, key),
  };
}

/** The storage the configuration asks for. */
export function createMediaStorage(config: Pick<MediaConfig, 'dir' | 's3' | 'publicUrl'>): MediaStorage {
  return config.s3 ? createS3Storage({ ...config.s3, publicUrl: config.publicUrl }) : createLocalStorage({ dir: config.dir, publicUrl: config.publicUrl });
}

const TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
};

/** The Content-Type of a key, from its extension (keys are made by Inkwell, so the extension is true). */
export function contentTypeOf(key: string): string {
  return TYPES[/\.([a-z0-9]+)$/i.exec(key)?.[1].toLowerCase() ?? ''] ?? 'application/octet-stream';
}
