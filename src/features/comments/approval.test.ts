import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';
import { apiRequest } from '../../../test/support/request.ts';

// Approving an edit of a comment readers saw before is no new comment: nobody is notified twice.
eachDatabase('approving an edited comment', (dialect) => {
  let t: TestApp;
  let writer: TestUser, bob: TestUser;
  let moderator: Client;
  const tokens = new Map<number, string>();

  before(async () => {
    t = await buildTestApp(dialect);
    writer = await buildUser(t, { role: 'author' });
    bob = await buildUser(t, { role: 'reader' });
    const editor = await buildUser(t, { role: 'editor' });
    for (const u of [writer, bob]) tokens.set(u.id, await buildToken(t, u));
    moderator = new Client(t.app);
    await moderator.login(editor.username, editor.password);
    await moderator.get('/admin/comments');
    assert.equal((await moderator.postForm('/admin/comments/mode', { mode: 'all-held' })).status, 303);
  });
  after(() => t.close());

  const api = (u: TestUser, method: string, url: string, body?: unknown) => apiRequest(t.app, method, url, { token: tokens.get(u.id), body });
  const approve = async (id: number) => {
    await moderator.get('/admin/comments');
    assert.equal((await moderator.postForm(`/admin/comments/${id}/approve`, {})).status, 303);
    await t.queue.drain({ types: ['event.dispatch'] });
  };
  const eventsFor = async (commentId: number) =>
    (await t.db.kysely.selectFrom('events').select(['type', 'payload']).orderBy('id').execute())
      .filter((e) => JSON.parse(e.payload).commentId === commentId)
      .map((e) => e.type);
  const notificationsOf = async (u: TestUser) => (await api(u, 'GET', '/api/v1/notifications')).json().notifications as unknown[];
  const mailsTo = async (u: TestUser) => (await t.db.kysely.selectFrom('mail_outbox').select('id').where('to_address', '=', u.email).execute()).length;

  test('the first approval notifies the post author once; approving an edit records comment.updated and notifies nobody again', async () => {
    const post = (await api(writer, 'POST', '/api/v1/posts', { title: 'Talked about', body: 'x', status: 'published' })).json();
    const c = await api(bob, 'POST', `/api/v1/posts/${post.id}/comments`, { body: 'A first remark' });
    assert.equal(c.json().status, 'held');
    const id = c.json().id as number;
    await t.queue.drain({ types: ['event.dispatch'] });

    await approve(id);
    assert.equal((await notificationsOf(writer)).length, 1);
    const mails = await mailsTo(writer);
    assert.equal(mails, 1, 'one instant email about the new comment');

    const edited = await api(bob, 'PATCH', `/api/v1/comments/${id}`, { body: 'A first remark, fixed' });
    assert.equal(edited.json().status, 'held');
    await approve(id);
    assert.match((await t.app.inject(`/posts/${post.slug}`)).body, /A first remark, fixed/);
    assert.equal((await notificationsOf(writer)).length, 1, 'no second notification');
    assert.equal(await mailsTo(writer), mails, 'no second email');
    assert.deepEqual(await eventsFor(id), ['comment.held', 'comment.created', 'comment.updated']);
  });
});
