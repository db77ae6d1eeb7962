// MEDIA_QUOTA_MB holds under concurrent uploads: eight at once from one account
// store no more than the quota allows, and a refused one leaves no file behind.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import type { Dialect } from '../../platform/db/index.ts';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { buildToken, buildUser } from '../../../test/support/factories.ts';

const QUOTA = 1024 * 1024;

eachDatabase('media quota under concurrent uploads', (dialect: Dialect) => {
  let t: TestApp;
  let dir: string;
  let photo: Buffer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'inkwell-media-quota-race-'));
    t = await buildTestApp(dialect, { env: { MEDIA_DIR: dir, MEDIA_QUOTA_MB: '1' } });
    // Noise does not compress: about 270 KB once cleaned, so three fit in 1 MB and the fourth does not.
    photo = await sharp({ create: { width: 640, height: 640, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 50 } } })
      .jpeg({ quality: 95 })
      .toBuffer();
  });

  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const send = (token: string, name: string) => {
    const fd = new FormData();
    fd.append('file', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), name);
    return t.app.inject({ method: 'POST', url: '/api/v1/media', headers: { authorization: `Bearer ${token}` }, payload: fd });
  };
  const files = () => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
  const stored = async (ownerId: number) =>
    (await t.db.kysely.selectFrom('media').select('bytes').where('owner_id', '=', ownerId).execute()).reduce((n, r) => n + Number(r.bytes), 0);
  const usage = async (ownerId: number) =>
    Number((await t.db.kysely.selectFrom('media_usage').select('bytes').where('owner_id', '=', ownerId).executeTakeFirst())?.bytes ?? 0);

  test('eight uploads at once take no more than the quota; the others are 413 naming it and store nothing', async () => {
    const author = await buildUser(t, { role: 'author' });
    const token = await buildToken(t, author);
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => send(token, `photo-${i}.jpg`)));
    const ok = answers.filter((r) => r.statusCode === 201);
    const refused = answers.filter((r) => r.statusCode !== 201);
    const size = ok[0]?.json().bytes as number;
    assert.ok(size > QUOTA / 5 && size < QUOTA / 3, `each image is about a quarter of the quota (${size} bytes)`);
    // Exactly as many as fit: not one more (the race), not one fewer.
    assert.equal(ok.length, Math.floor(QUOTA / size), answers.map((r) => r.statusCode).join(' '));
    for (const r of refused) {
      assert.equal(r.statusCode, 413, r.body);
      assert.match(r.json().detail, /storage quota of 1 MB \(MEDIA_QUOTA_MB\)/);
    }
    assert.ok((await stored(author.id)) <= QUOTA);
    assert.equal(await usage(author.id), await stored(author.id));
    // Only the accepted images' files are on disk (their variants are not made yet).
    assert.equal(files(), ok.length);

    // Deleting one gives its bytes back: one more upload fits, and the next does not.
    const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/media/${ok[0].json().id}`, headers: { authorization: `Bearer ${token}` } });
    assert.equal(del.statusCode, 204);
    assert.equal(await usage(author.id), await stored(author.id));
    const [again, over] = await Promise.all([send(token, 'again.jpg'), send(token, 'over.jpg')]);
    assert.deepEqual([again.statusCode, over.statusCode].sort(), [201, 413]);
    assert.equal(await usage(author.id), await stored(author.id));

    // Another account has its own quota; admins are exempt but counted.
    const admin = await buildUser(t, { role: 'admin' });
    const adminToken = await buildToken(t, admin);
    const adminAnswers = await Promise.all(Array.from({ length: 5 }, (_, i) => send(adminToken, `admin-${i}.jpg`)));
    assert.deepEqual(
      adminAnswers.map((r) => r.statusCode),
      [201, 201, 201, 201, 201],
    );
    assert.equal(await usage(admin.id), await stored(admin.id));
  });
});
