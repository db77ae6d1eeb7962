import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../config.ts';

test('media settings: defaults beside the SQLite file, local disk, 20 MB, 50 megapixels, no quota, the standard widths', () => {
  const c = loadConfig({ DATABASE_URL: 'sqlite:./blog/inkwell.db' }).media;
  assert.deepEqual(c, {
    dir: './blog/media',
    s3: null,
    publicUrl: null,
    maxBytes: 20 * 1024 * 1024,
    maxPixels: 50_000_000,
    quotaBytes: null,
    keepOriginals: false,
    widths: [320, 640, 960, 1280, 1920],
  });
  assert.equal(loadConfig({}).media.dir, './data/media');
  assert.equal(loadConfig({ DATABASE_URL: 'postgres://u@db/x' }).media.dir, './data/media');
  assert.equal(loadConfig({ MEDIA_DIR: '/srv/media' }).media.dir, '/srv/media');
});

test('media settings: S3, public URL, limits and quota are read and checked', () => {
  const c = loadConfig({
    MEDIA_S3_BUCKET: 'blog-media',
    MEDIA_S3_ENDPOINT: 'http://127.0.0.1:9000',
    MEDIA_S3_ACCESS_KEY_ID: 'k',
    MEDIA_S3_SECRET_ACCESS_KEY: 's',
    MEDIA_PUBLIC_URL: 'https://cdn.example.com/media/',
    MEDIA_MAX_BYTES: '52428800',
    MEDIA_MAX_MEGAPIXELS: '100',
    MEDIA_QUOTA_MB: '500',
    MEDIA_KEEP_ORIGINALS: '1',
    MEDIA_WIDTHS: '1600, 400,800,400',
  }).media;
  assert.deepEqual(c.s3, {
    bucket: 'blog-media',
    endpoint: 'http://127.0.0.1:9000',
    region: 'us-east-1',
    accessKeyId: 'k',
    secretAccessKey: 's',
    forcePathStyle: true,
  });
  assert.equal(c.publicUrl, 'https://cdn.example.com/media');
  assert.equal(c.maxBytes, 52428800);
  assert.equal(c.maxPixels, 100_000_000);
  assert.equal(c.quotaBytes, 500 * 1024 * 1024);
  assert.equal(c.keepOriginals, true);
  assert.deepEqual(c.widths, [400, 800, 1600]);

  const bad: [Record<string, string>, RegExp][] = [
    [{ MEDIA_S3_BUCKET: 'No_Such' }, /MEDIA_S3_BUCKET must be a bucket name/],
    [{ MEDIA_S3_ENDPOINT: 'http://x' }, /MEDIA_S3_BUCKET is not/],
    [{ MEDIA_S3_BUCKET: 'ok-bucket', MEDIA_S3_ACCESS_KEY_ID: 'k' }, /must be set together/],
    [{ MEDIA_S3_BUCKET: 'ok-bucket', MEDIA_S3_ENDPOINT: 'ftp://x' }, /MEDIA_S3_ENDPOINT must be an http\(s\) URL/],
    [{ MEDIA_PUBLIC_URL: 'cdn.example.com' }, /MEDIA_PUBLIC_URL must be an http\(s\) URL/],
    [{ MEDIA_MAX_BYTES: '20MB' }, /MEDIA_MAX_BYTES must be a number of bytes/],
    [{ MEDIA_MAX_MEGAPIXELS: '0' }, /MEDIA_MAX_MEGAPIXELS must be a whole number/],
    [{ MEDIA_QUOTA_MB: '-1' }, /MEDIA_QUOTA_MB must be a whole number/],
    [{ MEDIA_KEEP_ORIGINALS: 'yes' }, /MEDIA_KEEP_ORIGINALS must be 1 or 0/],
    [{ MEDIA_WIDTHS: '320,5000' }, /MEDIA_WIDTHS must be up to 10 widths/],
    [{ MEDIA_WIDTHS: '320;640' }, /MEDIA_WIDTHS must be up to 10 widths/],
  ];
  for (const [env, message] of bad)
    assert.throws(
      () => loadConfig(env),
      (e) => e instanceof ConfigError && message.test(e.message),
      JSON.stringify(env),
    );
});
