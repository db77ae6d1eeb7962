import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';
import { linkIn, rawHeader, startSmtpCatcher, type Received, type SmtpCatcher } from '../../../test/support/smtp.ts';
import { notificationOwnersOn } from '../../../test/support/owners.ts';
import { createEvents } from '../../platform/events/index.ts';
import { createQueue } from '../../platform/jobs/queue.ts';
import { apiRequest } from '../../../test/support/request.ts';

eachDatabase('notifications', (dialect) => {
  let t: TestApp;
  let smtp: SmtpCatcher;
  let now = new Date('2026-11-23T06:00:00Z');
  const clock = { now: () => now };
  let ann: TestUser, bob: TestUser, cat: TestUser;
  const tokens = new Map<number, string>();

  before(async () => {
    smtp = await startSmtpCatcher();
    t = await buildTestApp(dialect, { clock, env: { SMTP_URL: smtp.url, SITE_URL: 'http://blog.test' } });
    [ann, bob, cat] = await Promise.all([buildUser(t, { role: 'author' }), buildUser(t, { role: 'reader' }), buildUser(t, { role: 'reader' })]);
    for (const u of [ann, bob, cat]) tokens.set(u.id, await buildToken(t, u));
  });
  after(async () => {
    await t.close();
    await smtp.stop();
  });

  const api = (u: TestUser | null, method: string, url: string, body?: unknown) =>
    apiRequest(t.app, method, url, { token: u ? tokens.get(u.id) : undefined, body });
  async function settle() {
    // Hand events to their subscribers, then deliver the mail they wrote.
    await t.queue.drain();
  }
  async function comment(u: TestUser, postId: number, body: string, parentId?: number) {
    now = new Date(now.getTime() + 61_000);
    const res = await api(u, 'POST', `/api/v1/posts/${postId}/comments`, { body, ...(parentId ? { parentId } : {}) });
    assert.equal(res.statusCode, 201, res.body);
    await settle();
    return res.json() as { id: number };
  }
  const inbox = (u: TestUser) => smtp.messages.filter((m) => m.to.includes(u.email));
  const list = async (u: TestUser) => (await api(u, 'GET', '/api/v1/notifications')).json();

  test('a reply chain across three people notifies the right ones, by email too, never for your own actions', async () => {
    const post = (await api(ann, 'POST', '/api/v1/posts', { title: 'Three people talk', body: 'x', status: 'published' })).json();
    const before = { ann: inbox(ann).length, bob: inbox(bob).length, cat: inbox(cat).length };

    const b1 = await comment(bob, post.id, "Bob on Ann's post");
    const c1 = await comment(cat, post.id, 'Cat answers Bob', b1.id);
    await comment(ann, post.id, 'Ann answers Cat', c1.id);
    await comment(bob, post.id, 'Bob answers himself', b1.id);

    const annList = (await list(ann)).notifications;
    assert.deepEqual(annList.map((n: { kind: string; actor: { username: string } }) => [n.kind, n.actor.username]).reverse(), [
      ['comment_on_post', bob.username],
      ['comment_on_post', cat.username],
      ['comment_on_post', bob.username],
    ]);
    const bobList = (await list(bob)).notifications;
    assert.deepEqual(
      bobList.map((n: { kind: string; actor: { username: string } }) => [n.kind, n.actor.username]),
      [['reply_to_comment', cat.username]],
    );
    const catList = (await list(cat)).notifications;
    assert.deepEqual(
      catList.map((n: { kind: string; actor: { username: string } }) => [n.kind, n.actor.username]),
      [['reply_to_comment', ann.username]],
    );

    await smtp.waitFor((m) => m.to.includes(cat.email) && /replied to your comment/.test(m.subject));
    assert.equal(inbox(ann).length - before.ann, 3);
    assert.equal(inbox(bob).length - before.bob, 1);
    assert.equal(inbox(cat).length - before.cat, 1);
    const mail = inbox(bob).at(-1)!;
    assert.match(mail.subject, /replied to your comment on “Three people talk”/);
    assert.match(mail.text, /Cat answers Bob/);
    assert.match(rawHeader(mail, 'List-Unsubscribe') ?? '', /^<http:\/\/blog\.test\/unsubscribe\/[\w-]+>$/);
    assert.equal(rawHeader(mail, 'List-Unsubscribe-Post'), 'List-Unsubscribe=One-Click');
  });

  test('one event never notifies twice, even when handled again', async () => {
    const post = (await api(ann, 'POST', '/api/v1/posts', { title: 'Once only', body: 'x', status: 'published' })).json();
    await comment(bob, post.id, 'hello once');
    const count = async () => (await t.db.kysely.selectFrom('notifications').select('id').where('post_id', '=', post.id).execute()).length;
    assert.equal(await count(), 1);
    // Re-run the event's dispatch as a crashed worker's successor would.
    const ids = await t.db.kysely.selectFrom('events').select('id').where('type', '=', 'comment.created').execute();
    await t.db.kysely
      .updateTable('jobs')
      .set({ status: 'queued', run_at: '2000-01-01T00:00:00.000Z' })
      .where('type', '=', 'event.dispatch')
      .where(
        'payload',
        'in',
        ids.map((e) => JSON.stringify({ eventId: e.id })),
      )
      .execute();
    await settle();
    assert.equal(await count(), 1);
  });

  test('a crash between "comment saved" and "notification made" loses nothing', async () => {
    const post = (await api(ann, 'POST', '/api/v1/posts', { title: 'Crash test', body: 'x', status: 'published' })).json();
    // The process that recorded the comment died after the commit, before any of its
    // workers ran: the dispatch job waits in the queue, and the next process runs it.
    now = new Date(now.getTime() + 61_000);
    const res = await api(cat, 'POST', `/api/v1/posts/${post.id}/comments`, { body: 'survives' });
    assert.equal(res.statusCode, 201);
    const none = await t.db.kysely.selectFrom('notifications').select('id').where('post_id', '=', post.id).execute();
    assert.equal(none.length, 0);
    const queue = createQueue({ db: t.db.kysely, clock, dialect });
    const next = createEvents({ db: t.db.kysely, clock, queue });
    const { createNotificationsService } = await import('./notifications.service.ts');
    const ns = createNotificationsService({
      db: t.db.kysely,
      clock,
      mailer: t.mailer,
      site: { url: 'http://blog.test', name: () => 'Inkwell' },
      owners: notificationOwnersOn(t.db.kysely, clock),
    });
    next.on('comment.created', ns.onCommentCreated);
    assert.ok((await queue.drain({ types: ['event.dispatch'] })) >= 1);
    const made = await t.db.kysely.selectFrom('notifications').select('user_id').where('post_id', '=', post.id).execute();
    assert.deepEqual(
      made.map((r) => r.user_id),
      [ann.id],
    );
  });

  test('unread count, mark some read, mark all read; only your own', async () => {
    const before = (await list(ann)).unreadCount;
    assert.ok(before >= 3);
    const ids = (await list(ann)).notifications.slice(0, 2).map((n: { id: number }) => n.id);
    const bobTries = await api(bob, 'POST', '/api/v1/notifications/read', { ids });
    assert.equal(bobTries.statusCode, 200);
    assert.equal((await list(ann)).unreadCount, before, "Bob cannot mark Ann's");
    assert.equal((await api(ann, 'POST', '/api/v1/notifications/read', { ids })).json().unreadCount, before - 2);
    assert.equal((await api(ann, 'POST', '/api/v1/notifications/read', {})).json().unreadCount, 0);
    assert.equal((await api(ann, 'POST', '/api/v1/notifications/read', { ids: ['x'] })).statusCode, 422);
    assert.equal((await api(null, 'GET', '/api/v1/notifications')).statusCode, 401);

    const c = new Client(t.app);
    await c.login(bob.username, bob.password);
    const page = await c.get('/notifications');
    assert.match(page.body, /replied to your comment/);
    assert.match(page.body, /id="unread-badge"[^>]*>1</);
    await c.postForm('/notifications/read', {});
    assert.match((await c.get('/notifications')).body, /id="unread-badge"[^>]*hidden>0</);
  });

  test('unsubscribe: no login, works once, cannot be forged; link scanners (GET, HEAD) change nothing; RFC 8058 POST too', async () => {
    const post = (await api(ann, 'POST', '/api/v1/posts', { title: 'Unsubscribe me', body: 'x', status: 'published' })).json();
    await comment(bob, post.id, 'ping one');
    const mail: Received = await smtp.waitFor((m) => m.to.includes(ann.email) && /Unsubscribe me/.test(m.subject));
    const link = new URL(linkIn(mail, '/unsubscribe/'));
    const pref = async () => (await api(ann, 'GET', '/api/v1/me/notification-preferences')).json().comment_on_post;
    assert.equal((await new Client(t.app).get(`${link.pathname}x`)).status, 400, 'a tampered token does nothing');

    // A mail security scanner fetches every link, with HEAD and GET: nothing changes.
    assert.equal((await t.app.inject({ method: 'HEAD', url: link.pathname })).statusCode, 200);
    const browser = new Client(t.app);
    const page = await browser.get(link.pathname);
    assert.equal(page.status, 200);
    assert.equal(await pref(), 'instant', 'GET and HEAD do not unsubscribe');
    const action = /<form method="post" action="([^"]+)"/.exec(page.body)?.[1];
    assert.equal(action, link.pathname, 'the page offers one button that POSTs to the link');

    // The person clicks the button.
    const done = await browser.request('POST', action!, { form: {} });
    assert.equal(done.status, 200);
    assert.match(done.body, /You're unsubscribed/);
    assert.equal(await pref(), 'off');
    assert.equal((await new Client(t.app).get(link.pathname)).status, 400, 'the link works once');
    assert.equal((await browser.request('POST', action!, { form: {} })).status, 400, 'the link works once');

    const count = inbox(ann).length;
    await comment(cat, post.id, 'ping two');
    assert.equal(inbox(ann).length, count, 'no email after unsubscribing');
    assert.ok(
      (await list(ann)).notifications.some((n: { excerpt: string }) => /ping two/.test(n.excerpt)),
      'still notified in the app',
    );

    // RFC 8058 one-click, cross-site and without cookies or a CSRF token, in both body encodings.
    const oneClickForm = new FormData();
    oneClickForm.set('List-Unsubscribe', 'One-Click');
    const multipart = new Response(oneClickForm);
    const encodings = [
      { 'content-type': 'application/x-www-form-urlencoded', payload: Buffer.from('List-Unsubscribe=One-Click') },
      { 'content-type': multipart.headers.get('content-type')!, payload: Buffer.from(await multipart.arrayBuffer()) },
    ];
    for (const [i, enc] of encodings.entries()) {
      await api(ann, 'PUT', '/api/v1/me/notification-preferences', { comment_on_post: 'instant' });
      await comment(bob, post.id, `ping three ${i}`);
      const third = await smtp.waitFor((m) => m.to.includes(ann.email) && /Unsubscribe me/.test(m.subject) && m.text.includes(`ping three ${i}`));
      const url = new URL(linkIn(third, '/unsubscribe/')).pathname;
      const oneClick = await t.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': enc['content-type'], origin: 'https://mail.example.com' },
        payload: enc.payload,
      });
      assert.equal(oneClick.statusCode, 200, `${enc['content-type']}: ${oneClick.body}`);
      assert.equal(oneClick.body, 'Unsubscribed.\n');
      assert.equal(await pref(), 'off', enc['content-type']);
    }
    const broken = await t.app.inject({ method: 'POST', url: link.pathname, headers: { 'content-type': 'multipart/form-data' }, payload: 'x' });
    assert.equal(broken.statusCode, 400, 'a multipart body without a boundary is a 400, not a 500');
    assert.equal((await api(ann, 'PUT', '/api/v1/me/notification-preferences', { comment_on_post: 'weekly' })).statusCode, 422);
    await api(ann, 'PUT', '/api/v1/me/notification-preferences', { comment_on_post: 'instant' });
  });

  test('a daily digest gathers what waited, once a day', async () => {
    await api(cat, 'PUT', '/api/v1/me/notification-preferences', { reply_to_comment: 'daily' });
    const post = (await api(ann, 'POST', '/api/v1/posts', { title: 'Digest post', body: 'x', status: 'published' })).json();
    const root = await comment(cat, post.id, 'Cat starts');
    const before = inbox(cat).length;
    await comment(bob, post.id, 'Bob replies 1', root.id);
    await comment(ann, post.id, 'Ann replies 2', root.id);
    assert.equal(inbox(cat).length, before, 'nothing instant');
    now = new Date('2026-11-24T07:30:00Z');
    const { createNotificationsService } = await import('./notifications.service.ts');
    const ns = createNotificationsService({
      db: t.db.kysely,
      clock,
      mailer: t.mailer,
      site: { url: 'http://blog.test', name: () => 'Inkwell' },
      owners: notificationOwnersOn(t.db.kysely, clock),
    });
    assert.equal(await ns.sendDigests(), 0, 'not before 08:00 UTC');
    now = new Date('2026-11-24T08:05:00Z');
    assert.equal(await ns.sendDigests(), 1);
    assert.equal(await ns.sendDigests(), 0, 'once a day');
    await settle();
    const digest = await smtp.waitFor((m) => m.to.includes(cat.email) && /2 new notifications/.test(m.subject));
    assert.match(digest.text, /Bob replies 1/);
    assert.match(digest.text, /Ann replies 2/);
    assert.match(rawHeader(digest, 'List-Unsubscribe') ?? '', /^<http:\/\/blog\.test\/unsubscribe\//);
  });
});
