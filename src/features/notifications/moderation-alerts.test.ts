import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';
import { apiRequest } from '../../../test/support/request.ts';

eachDatabase('moderators hear of held comments', (dialect) => {
  let t: TestApp;
  let admin: TestUser, editor: TestUser, author: TestUser, reader: TestUser;
  const tokens = new Map<number, string>();

  before(async () => {
    t = await buildTestApp(dialect, { env: { SITE_URL: 'http://blog.test' } });
    [admin, editor, author, reader] = await Promise.all([
      buildUser(t, { role: 'admin' }),
      buildUser(t, { role: 'editor' }),
      buildUser(t, { role: 'author' }),
      buildUser(t, { role: 'reader' }),
    ]);
    for (const u of [admin, editor, author, reader]) tokens.set(u.id, await buildToken(t, u));
  });
  after(() => t.close());

  const api = (u: TestUser | null, method: string, url: string, body?: unknown) =>
    apiRequest(t.app, method, url, { token: u ? tokens.get(u.id) : undefined, body });
  const settle = async () => {
    await t.queue.drain();
  };
  const mailTo = async (u: TestUser) => t.db.kysely.selectFrom('mail_outbox').select(['subject', 'text']).where('to_address', '=', u.email).execute();

  test('a held comment notifies every moderator in-app and by email per their preferences; the header counts the queue', async () => {
    const ed = new Client(t.app);
    assert.equal((await ed.login(editor.username, editor.password)).status, 303);
    await ed.get('/admin/comments');
    assert.equal((await ed.postForm('/admin/comments/mode', { mode: 'all-held' })).status, 303);
    // The admin wants no email for these; the editor keeps the default (instant).
    assert.equal((await api(admin, 'PUT', '/api/v1/me/notification-preferences', { comment_held: 'off' })).statusCode, 200);

    const post = (await api(author, 'POST', '/api/v1/posts', { title: 'Held comments here', body: 'x', status: 'published' })).json();
    const res = await api(reader, 'POST', `/api/v1/posts/${post.id}/comments`, { body: 'Please approve me' });
    assert.equal(res.statusCode, 201, res.body);
    await settle();

    for (const mod of [admin, editor]) {
      const list = (await api(mod, 'GET', '/api/v1/notifications')).json().notifications as { kind: string; url: string; message: string }[];
      const held = list.find((n) => n.kind === 'comment_held');
      assert.ok(held, `${mod.role} is notified`);
      assert.equal(held.url, 'http://blog.test/admin/comments');
      assert.match(held.message, /awaits approval/);
    }
    for (const u of [author, reader]) {
      const list = (await api(u, 'GET', '/api/v1/notifications')).json().notifications as { kind: string }[];
      assert.ok(!list.some((n) => n.kind === 'comment_held'), `${u.role} is not a moderator`);
    }
    assert.ok(
      (await mailTo(editor)).some((m) => /awaits approval/.test(m.subject)),
      'the editor gets an email',
    );
    assert.ok(!(await mailTo(admin)).some((m) => /awaits approval/.test(m.subject)), 'the admin turned these emails off');

    // The header shows the queue's count to moderators only.
    const page = await ed.get('/');
    assert.match(page.body, /<a href="\/admin\/comments">Comments <span class="badge-count" aria-label="1 awaiting approval">1<\/span><\/a>/);
    const rd = new Client(t.app);
    await rd.login(reader.username, reader.password);
    assert.doesNotMatch((await rd.get('/')).body, /awaiting approval/);

    // Approved, the count goes.
    const id = res.json().id;
    await ed.get('/admin/comments');
    const approved = await ed.postForm(`/admin/comments/${id}/approve`, {});
    assert.equal(approved.status, 303);
    assert.doesNotMatch((await ed.get('/')).body, /awaiting approval/);
  });
});
