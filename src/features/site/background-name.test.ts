import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';
import { apiRequest } from '../../../test/support/request.ts';

// Emails made outside a request (event subscribers, jobs) use the site's name as it is now,
// even when it was changed through another instance on the same database.
eachDatabase('background emails read the current site name', (dialect) => {
  let a: TestApp; // renders the emails; serves no request after the rename
  let b: TestApp; // where the admin renames the blog
  let now = new Date('2026-11-23T10:00:00Z');
  const clock = { now: () => now };
  let admin: TestUser;
  let adminToken: string;
  let server: http.Server;
  let hookUrl = '';

  before(async () => {
    server = http.createServer((_req, res) => res.writeHead(500).end('down'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
    a = await buildTestApp(dialect, { clock });
    b = await buildTestApp(dialect, { clock, sameDbAs: a });
    admin = await buildUser(a, { role: 'admin' });
    adminToken = await buildToken(a, admin);
  });
  after(async () => {
    await b.close();
    await a.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const rename = async (name: string) => {
    const res = await apiRequest(b.app, 'PATCH', '/api/v1/site', { token: adminToken, body: { name } });
    assert.equal(res.statusCode, 200, res.body);
  };
  const mailTo = (email: string) => a.db.kysely.selectFrom('mail_outbox').select(['subject', 'text']).where('to_address', '=', email).orderBy('id').execute();

  test('an event subscriber on one instance sends the name set through another', async () => {
    const author = await buildUser(a, { role: 'author' });
    const editor = await buildUser(a, { role: 'editor' });
    const post = (
      await apiRequest(a.app, 'POST', '/api/v1/posts', { token: await buildToken(a, author), body: { title: 'Named', body: 'x', status: 'published' } })
    ).json();
    await rename('The Renamed Blog');
    const c = await apiRequest(b.app, 'POST', `/api/v1/posts/${post.id}/comments`, { token: await buildToken(b, editor), body: { body: 'Nice.' } });
    assert.equal(c.statusCode, 201, c.body);
    // The same comment's event handled by the instance that has not served a request since.
    await a.db.kysely
      .transaction()
      .execute((trx) => a.events.record(trx, 'comment.created', { commentId: c.json().id, postId: post.id, parentId: null, authorId: editor.id }));
    await a.queue.drain({ types: ['event.dispatch'] });
    const mails = await mailTo(author.email);
    assert.equal(mails.length, 2, 'one email from each instance');
    for (const m of mails) {
      assert.match(m.text, /The Renamed Blog/);
      assert.doesNotMatch(m.text, /Inkwell/);
    }
  });

  test('a job on one instance (a webhook given up) sends the name set through another', async () => {
    await rename('Before The Job');
    const hook = await apiRequest(b.app, 'POST', '/api/v1/webhooks', { token: adminToken, body: { url: hookUrl, events: ['post.published'] } });
    assert.equal(hook.statusCode, 201, hook.body);
    await apiRequest(b.app, 'POST', '/api/v1/posts', { token: adminToken, body: { title: 'Hooked', body: 'x', status: 'published' } });
    await b.queue.drain({ types: ['event.dispatch'] });
    await a.queue.drain(); // fails once: the endpoint is failing from now on
    await rename('After The Job Was Queued');
    now = new Date(now.getTime() + 4 * 24 * 3600_000);
    await a.queue.drain(); // fails again, 4 days on: the endpoint is disabled and the admins told
    const mails = (await mailTo(admin.email)).filter((m) => m.subject.startsWith('A webhook was disabled'));
    assert.equal(mails.length, 1);
    assert.equal(mails[0].subject, 'A webhook was disabled on After The Job Was Queued');
  });
});
