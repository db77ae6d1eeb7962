import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildUser, type TestUser } from '../../../test/support/factories.ts';
import { createMediaStorage } from '../media/index.ts';
import { startS3Server } from '../../../test/support/s3.ts';

const FIXTURE = new URL('../../../test/fixtures/wordpress/blog.xml', import.meta.url).pathname;

// Behind a load balancer the upload reaches one instance and the job may run on
// another: the file waits in the media storage (S3 here, through a real S3
// protocol server), which every instance reads, and is removed once imported.
eachDatabase('an import uploaded to one instance runs on another', (dialect) => {
  let s3: Awaited<ReturnType<typeof startS3Server>>;
  let a: TestApp, b: TestApp;
  let admin: TestUser;
  const dir = mkdtempSync(join(tmpdir(), 'inkwell-import-instances-'));

  before(async () => {
    s3 = await startS3Server('inkwell-imports-test');
    a = await buildTestApp(dialect, { env: { ...s3.env, MEDIA_DIR: join(dir, 'a') } });
    b = await buildTestApp(dialect, { sameDbAs: a, env: { ...s3.env, MEDIA_DIR: join(dir, 'b') } });
    admin = await buildUser(a, { role: 'admin' });
  });
  after(async () => {
    await b.close();
    await a.close();
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('uploaded through A, imported by B from the bucket, then removed from it', async () => {
    const c = new Client(a.app);
    await c.login(admin.username, admin.password);
    await c.get('/admin/import');
    const fd = new FormData();
    fd.append('_csrf', c.csrf());
    fd.append('format', 'wordpress');
    fd.append('file', new Blob([readFileSync(FIXTURE)], { type: 'text/xml' }), 'blog.xml');
    const req = new Request('http://blog.test/admin/import', { method: 'POST', body: fd });
    const res = await a.app.inject({
      method: 'POST',
      url: '/admin/import',
      payload: Buffer.from(await req.arrayBuffer()),
      headers: { 'content-type': req.headers.get('content-type')!, cookie: [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    assert.equal(res.statusCode, 303);

    // The job names the object in the bucket, not a file on A's disk.
    const job = await a.db.kysely.selectFrom('jobs').select('payload').where('type', '=', 'moving.import').executeTakeFirstOrThrow();
    const payload = JSON.parse(job.payload);
    assert.equal(payload.path, undefined);
    assert.match(payload.key, /^private\/[0-9a-f]{32}$/);
    const bucket = createMediaStorage({ dir: '', s3: s3.options, publicUrl: null });
    assert.equal((await bucket.head(payload.key))?.bytes, readFileSync(FIXTURE).length, 'the upload is in the bucket');
    // Not served: it is no image of the library.
    assert.equal((await a.app.inject({ method: 'GET', url: `/media/${payload.key.split('/')[1]}` })).statusCode, 404);

    await b.queue.drain();
    const page = await c.get(res.headers.location as string);
    assert.match(page.body, /State: <strong>succeeded<\/strong>/);
    assert.match(page.body, /posts\s+5 imported/);
    assert.equal((await b.app.inject({ method: 'GET', url: '/posts/whats-backend-development' })).statusCode, 200);
    assert.equal(await bucket.head(payload.key), null, 'the upload is removed from the bucket once imported');
  });
});
