import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createLocalStorage, createS3Storage, type MediaStorage } from './media.storage.ts';
import { startS3Server } from '../../../test/support/s3.ts';

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** One contract, run against every implementation. */
function storageContract(name: string, make: () => Promise<{ storage: MediaStorage; close(): Promise<void> }>) {
  describe(`media storage: ${name}`, () => {
    let storage: MediaStorage;
    let close: () => Promise<void>;
    let work: string;
    before(async () => {
      ({ storage, close } = await make());
      work = mkdtempSync(join(tmpdir(), 'inkwell-media-src-'));
    });
    after(async () => {
      await close();
      rmSync(work, { recursive: true, force: true });
    });

    test('put from a file, then head, get and get a range', async () => {
      const src = join(work, 'a.bin');
      await writeFile(src, 'hello media world');
      const stored = await storage.put('abc-1.jpg', { path: src }, 'image/jpeg');
      assert.deepEqual(stored, { key: 'abc-1.jpg', bytes: 17, contentType: 'image/jpeg' });
      assert.deepEqual(await storage.head('abc-1.jpg'), { key: 'abc-1.jpg', bytes: 17, contentType: 'image/jpeg' });
      const whole = await storage.get('abc-1.jpg');
      assert.ok(whole);
      assert.equal(whole.bytes, 17);
      assert.equal(whole.contentType, 'image/jpeg');
      assert.equal(await text(whole.stream), 'hello media world');
      const part = await storage.get('abc-1.jpg', { start: 6, end: 10 });
      assert.ok(part);
      assert.equal(part.bytes, 17, 'bytes is the whole size, also for a range');
      assert.equal(await text(part.stream), 'media');
    });

    test('put from a stream, in a sub-directory key; replacing keeps the newest', async () => {
      await storage.put('originals/x-2.png', { stream: Readable.from([Buffer.from('first')]) }, 'image/png');
      await storage.put('originals/x-2.png', { stream: Readable.from([Buffer.from('second!')]) }, 'image/png');
      const got = await storage.get('originals/x-2.png');
      assert.ok(got);
      assert.equal(await text(got.stream), 'second!');
      assert.equal((await storage.head('originals/x-2.png'))?.bytes, 7);
    });

    test('missing keys: head and get are null, delete is fine; delete removes', async () => {
      assert.equal(await storage.head('nope.webp'), null);
      assert.equal(await storage.get('nope.webp'), null);
      await storage.delete('nope.webp');
      const src = join(work, 'd.bin');
      await writeFile(src, 'x');
      await storage.put('gone.gif', { path: src }, 'image/gif');
      await storage.delete('gone.gif');
      assert.equal(await storage.head('gone.gif'), null);
    });

    test('keys that could leave the store are refused', async () => {
      for (const key of ['../evil.jpg', '/etc/passwd', 'a/../../b.jpg', 'a\\b.jpg', '', 'a/b/c.jpg', '.hidden']) {
        await assert.rejects(storage.head(key), /not a media key/, key);
        await assert.rejects(storage.put(key, { stream: Readable.from([Buffer.from('x')]) }, 'image/jpeg'), /not a media key/, key);
      }
    });
  });
}

storageContract('local disk', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'inkwell-media-'));
  return {
    storage: createLocalStorage({ dir }),
    close: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

storageContract('S3 protocol (s3rver)', async () => {
  const s3 = await startS3Server();
  const storage = createS3Storage({ ...s3.options, publicUrl: null });
  return {
    storage,
    close: async () => {
      storage.destroy();
      await s3.close();
    },
  };
});

test('public URLs: none by default; MEDIA_PUBLIC_URL joined with the key', () => {
  assert.equal(createLocalStorage({ dir: '/tmp/x' }).publicUrl('a.jpg'), null);
  assert.equal(createLocalStorage({ dir: '/tmp/x', publicUrl: 'https://cdn.example.com/m' }).publicUrl('a-1.jpg'), 'https://cdn.example.com/m/a-1.jpg');
});
