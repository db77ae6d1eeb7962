import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';
import { startSmtpCatcher, type SmtpCatcher } from '../../../test/support/smtp.ts';
import { apiRequest } from '../../../test/support/request.ts';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver on loopback that answers what the test tells it to. */
async function receiver() {
  const got: Received[] = [];
  let answer: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_q, s) => {
    s.writeHead(200).end('ok');
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      answer(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    got,
    port,
    answerWith(fn: typeof answer) {
      answer = fn;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** What a receiver does to trust a delivery: recompute the HMAC over "<t>.<raw body>". */
function verify(secret: string, header: string, body: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  return !!m && createHmac('sha256', secret).update(`${m[1]}.${body}`).digest('hex') === m[2];
}

eachDatabase('Slack and webhooks', (dialect) => {
  let t: TestApp;
  let smtp: SmtpCatcher;
  let now = new Date('2026-11-23T10:00:00Z');
  const clock = { now: () => now };
  let admin: TestUser;
  let adminToken: string;
  let hook: Awaited<ReturnType<typeof receiver>>;
  let slack: Awaited<ReturnType<typeof receiver>>;

  before(async () => {
    smtp = await startSmtpCatcher();
    hook = await receiver();
    slack = await receiver();
    t = await buildTestApp(dialect, { clock, env: { SMTP_URL: smtp.url, SITE_URL: 'http://blog.test' } });
    admin = await buildUser(t, { role: 'admin' });
    adminToken = await buildToken(t, admin);
  });
  after(async () => {
    await t.close();
    await hook.close();
    await slack.close();
    await smtp.stop();
  });

  const api = (method: string, url: string, body?: unknown, token = adminToken) => apiRequest(t.app, method, url, { token, body });
  async function settle() {
    for (let i = 0; i < 5; i++) {
      await t.queue.drain();
      await t.queue.drain();
    }
  }

  test('webhooks: admins manage them in the API; deliveries are signed JSON', async () => {
    const author = await buildUser(t, { role: 'author' });
    assert.equal((await api('GET', '/api/v1/webhooks', undefined, await buildToken(t, author))).statusCode, 403);
    assert.equal((await api('POST', '/api/v1/webhooks', { url: 'ftp://x', events: ['nope'] })).statusCode, 422);
    const created = await api('POST', '/api/v1/webhooks', { url: hook.url, events: ['post.published', 'post.deleted'] });
    assert.equal(created.statusCode, 201);
    const { webhook, secret } = created.json();
    assert.match(secret, /^whsec_/);
    const stored = await t.db.kysely.selectFrom('webhooks').select('secret_enc').executeTakeFirstOrThrow();
    assert.ok(!stored.secret_enc.includes(secret), 'the secret is not stored in the clear');

    const post = (await api('POST', '/api/v1/posts', { title: 'Hooked', body: 'x', status: 'published' })).json();
    await settle();
    assert.equal(hook.got.length, 1);
    const d = hook.got[0];
    assert.equal(d.headers['content-type'], 'application/json');
    assert.ok(verify(secret, String(d.headers['inkwell-signature']), d.body), 'the signature verifies');
    assert.match(String(d.headers['inkwell-delivery']), /^dlv_/);
    const payload = JSON.parse(d.body);
    assert.equal(payload.event, 'post.published');
    assert.equal(payload.data.slug, post.slug);
    assert.match(payload.id, /^evt_\d+$/);
    assert.ok(!verify('wrong secret', String(d.headers['inkwell-signature']), d.body));

    assert.equal((await api('PATCH', `/api/v1/webhooks/${webhook.id}`, { events: ['post.deleted'] })).json().events.join(), 'post.deleted');
    await api('DELETE', `/api/v1/posts/${post.id}`);
    await settle();
    assert.equal(JSON.parse(hook.got[1].body).event, 'post.deleted');
  });

  test('retries on 500 and on timeout; a receiver that was down gets it when it is back, once', async () => {
    hook.got.length = 0;
    let mode: 'down' | 'slow' | 'ok' = 'down';
    hook.answerWith((_q, res) => {
      if (mode === 'down') res.writeHead(500).end('nope');
      else if (mode === 'slow') {
        /* never answers: only the client's deadline ends it */
      } else res.writeHead(200).end('thanks');
    });
    await api('PATCH', '/api/v1/webhooks/1', { events: ['post.published'] });
    await api('POST', '/api/v1/posts', { title: 'Retry me', body: 'x', status: 'published' });
    await settle();
    assert.equal(hook.got.length, 1);
    const job = await t.db.kysely.selectFrom('jobs').selectAll().where('type', '=', 'webhook.deliver').orderBy('id', 'desc').executeTakeFirstOrThrow();
    assert.equal(job.status, 'queued');
    assert.match(job.last_error ?? '', /500/);
    now = new Date(now.getTime() + 10_000);
    mode = 'slow';
    await settle();
    assert.equal(hook.got.length, 2);
    const timedOut = await t.db.kysely.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
    assert.equal(timedOut.status, 'queued');
    assert.equal(timedOut.attempts, 2);
    assert.match(timedOut.last_error ?? '', /No complete answer within 1000 ms/);
    now = new Date(now.getTime() + 60_000);
    mode = 'ok';
    await settle();
    assert.equal(hook.got.length, 3);
    const log = await t.db.kysely.selectFrom('webhook_deliveries').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
    assert.equal(log.status, 'succeeded');
    assert.equal(log.attempts, 3);
    assert.equal(log.response_status, 200);
    now = new Date(now.getTime() + 3600_000);
    await settle();
    assert.equal(hook.got.length, 3, 'delivered once');
    hook.answerWith((_q, res) => res.writeHead(200).end('ok'));
  });

  test('an endpoint failing for days is disabled and admins are told', async () => {
    const dead = await api('POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:1/gone', events: ['post.published'] });
    const id = dead.json().webhook.id;
    await api('POST', '/api/v1/posts', { title: 'Into the void', body: 'x', status: 'published' });
    await settle();
    for (const days of [1, 2, 4]) {
      now = new Date(now.getTime() + days * 24 * 3600_000);
      await t.db.kysely.updateTable('jobs').set({ run_at: now.toISOString() }).where('status', '=', 'queued').execute();
      await settle();
    }
    const w = (await api('GET', `/api/v1/webhooks/${id}`)).json();
    assert.equal(w.active, false);
    assert.match(w.disabledReason, /failing since/);
    await t.queue.drain();
    await smtp.waitFor((m) => m.to.includes(admin.email) && /webhook was disabled/.test(m.subject));
  });

  test('a bad Slack URL shows the form again: the message as HTML, the input kept, nothing saved', async () => {
    const ad = new Client(t.app);
    await ad.login(admin.username, admin.password);
    await ad.get('/admin/integrations');
    const bad = 'ftp://hooks.example.test/<b>nope</b>';
    const res = await ad.postForm('/admin/integrations/slack', { slackUrl: bad, slackEvents: 'post.published' });
    assert.equal(res.status, 422);
    assert.doesNotMatch(res.body, /&lt;(ul|li)&gt;/, 'no escaped list markup');
    assert.match(res.body, /<form class="stacked" method="post" action="\/admin\/integrations\/slack">/, 'the form, not an error page');
    assert.match(
      res.body,
      /<div class="error-summary" role="alert">[\s\S]*<li><a href="#slackUrl">Slack webhook URL must be the https:\/\/ incoming-webhook URL/,
    );
    assert.match(
      res.body,
      /<input type="text" id="slackUrl" name="slackUrl" aria-invalid="true"[^>]* value="ftp:\/\/hooks\.example\.test\/&#60;b&#62;nope&#60;\/b&#62;">/,
      'what was typed is kept (escaped)',
    );
    assert.match(res.body, /value="post\.published" checked/);
    assert.doesNotMatch(res.body, /value="user\.created" checked/);
    assert.doesNotMatch((await ad.get('/admin/integrations')).body, /nope/, 'nothing was saved');
  });

  test('an error page with field errors lists them as HTML', async () => {
    const u = new Client(t.app);
    await u.login(admin.username, admin.password);
    await u.get('/settings/notifications');
    const res = await u.postForm('/settings/notifications', { comment_on_post: 'weekly' });
    assert.equal(res.status, 422);
    assert.match(res.body, /<ul><li>comment_on_post: [^<]+<\/li><\/ul>/);
    assert.doesNotMatch(res.body, /&lt;(ul|li)&gt;/);
  });

  test('Slack: a message for each sign-up; Slack down never touches the sign-up', async () => {
    const c = new Client(t.app);
    await c.get('/admin/integrations');
    const ad = new Client(t.app);
    await ad.login(admin.username, admin.password);
    await ad.get('/admin/integrations');
    assert.equal((await ad.postForm('/admin/integrations/slack', { slackUrl: slack.url, slackEvents: 'user.created' })).status, 303);

    const signup = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      payload: { email: 'new.person@example.test', username: 'newperson', password: 'a good long password' },
    });
    assert.equal(signup.statusCode, 201);
    await settle();
    assert.equal(slack.got.length, 1);
    const msg = JSON.parse(slack.got[0].body);
    assert.match(msg.text, /New user: \*newperson\* \(new\.person@example\.test\) signed up/);

    slack.answerWith((_q, res) => res.writeHead(503).end('slack is down'));
    const second = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      payload: { email: 'another@example.test', username: 'another', password: 'a good long password' },
    });
    assert.equal(second.statusCode, 201);
    assert.equal(slack.got.length, 1, 'the sign-up answered before anything was sent to Slack: it did not wait for it');
    await settle();
    const job = await t.db.kysely.selectFrom('jobs').selectAll().where('type', '=', 'slack.notify').orderBy('id', 'desc').executeTakeFirstOrThrow();
    assert.equal(job.status, 'queued', 'it will be retried');
    slack.answerWith((_q, res) => res.writeHead(200).end('ok'));
    now = new Date(now.getTime() + 60_000);
    await settle();
    assert.equal(slack.got.length, 3);
    assert.match(JSON.parse(slack.got[2].body).text, /another/);
  });

  test('scheduled posts go live on time and fire post.published', async () => {
    const at = new Date(now.getTime() + 5 * 60_000).toISOString();
    const bad = await api('POST', '/api/v1/posts', { title: 'Past', body: 'x', status: 'scheduled', publishedAt: '2000-01-01T00:00:00Z' });
    assert.equal(bad.statusCode, 422);
    assert.equal(bad.json().errors[0].field, 'publishedAt');
    const post = (await api('POST', '/api/v1/posts', { title: "Tomorrow's news", body: 'x', status: 'scheduled', publishedAt: at })).json();
    assert.equal(post.status, 'scheduled');
    assert.equal(post.publishedAt, at);
    assert.equal((await t.app.inject({ url: `/api/v1/posts/${post.id}` })).statusCode, 404, 'not public yet');
    await t.scheduler.tick();
    now = new Date(now.getTime() + 4 * 60_000);
    await t.scheduler.tick();
    assert.equal((await t.app.inject({ url: `/api/v1/posts/${post.id}` })).statusCode, 404);
    now = new Date(now.getTime() + 2 * 60_000);
    hook.got.length = 0;
    await t.scheduler.tick();
    const live = await t.app.inject({ url: `/api/v1/posts/${post.id}` });
    assert.equal(live.statusCode, 200);
    assert.equal(live.json().status, 'published');
    assert.equal(live.json().publishedAt, at);
    await settle();
    assert.ok(
      hook.got.some((d) => JSON.parse(d.body).data.id === post.id),
      'post.published went out',
    );
  });

  test('what a delivery carries for each event: the thing as its feature presents it', async () => {
    const mine = await receiver();
    try {
      const events = ['user.created', 'post.published', 'post.updated', 'comment.created'];
      assert.equal((await api('POST', '/api/v1/webhooks', { url: mine.url, events })).statusCode, 201);
      const data = (event: string) =>
        mine.got
          .map((d) => JSON.parse(d.body))
          .filter((b) => b.event === event)
          .map((b) => b.data);

      const signup = await t.app.inject({
        method: 'POST',
        url: '/api/v1/users',
        payload: { email: 'payload.person@example.test', username: 'payloadperson', displayName: 'Payload Person', password: 'a good long password' },
      });
      assert.equal(signup.statusCode, 201);
      const post = (await api('POST', '/api/v1/posts', { title: 'Carried', body: 'What a **delivery** carries.', status: 'published' })).json();
      now = new Date(now.getTime() + 60_000);
      const edited = (await api('PATCH', `/api/v1/posts/${post.id}`, { title: 'Carried again' })).json();
      const comment = (await api('POST', `/api/v1/posts/${post.id}/comments`, { body: 'A reply to <b>it</b>' })).json();
      await settle();

      const person = await t.db.kysely.selectFrom('users').selectAll().where('username', '=', 'payloadperson').executeTakeFirstOrThrow();
      assert.deepEqual(data('user.created'), [
        {
          id: person.id,
          username: 'payloadperson',
          displayName: 'Payload Person',
          email: 'payload.person@example.test',
          role: person.role,
          createdAt: person.created_at,
        },
      ]);
      const postData = (p: typeof post) => ({
        id: p.id,
        slug: p.slug,
        title: p.title,
        excerpt: p.excerpt,
        status: 'published',
        author: admin.username,
        publishedAt: p.publishedAt,
        updatedAt: p.updatedAt,
        url: `http://blog.test/posts/${p.slug}`,
      });
      // Read when the event is dispatched: the post as it is then (already edited).
      assert.deepEqual(data('post.published'), [postData(edited)]);
      assert.deepEqual(data('post.updated'), [postData(edited)]);
      assert.deepEqual(data('comment.created'), [
        {
          id: comment.id,
          body: 'A reply to <b>it</b>',
          parentId: null,
          author: admin.username,
          createdAt: comment.createdAt,
          post: { id: post.id, slug: edited.slug, title: 'Carried again' },
          url: `http://blog.test/posts/${edited.slug}#comment-${comment.id}`,
        },
      ]);
    } finally {
      await mine.close();
    }
  });

  test('/admin/jobs shows counts and failed jobs; admins retry them', async () => {
    t.queue.define('always.fails', {
      handler: async () => {
        throw new Error('the receiver is gone for good');
      },
    });
    await t.queue.enqueue(t.db.kysely, 'always.fails', {});
    for (let i = 0; i < 9; i++) {
      now = new Date(now.getTime() + 2 * 24 * 3600_000);
      await t.queue.drain();
    }
    const ad = new Client(t.app);
    await ad.login(admin.username, admin.password);
    const page = await ad.get('/admin/jobs');
    assert.equal(page.status, 200);
    assert.match(page.body, /the receiver is gone for good/);
    const id = /action="\/admin\/jobs\/(\d+)\/retry"/.exec(page.body)![1];
    assert.equal((await ad.postForm(`/admin/jobs/${id}/retry`, {})).status, 303);
    assert.equal((await t.db.kysely.selectFrom('jobs').select('status').where('id', '=', Number(id)).executeTakeFirstOrThrow()).status, 'queued');
  });
});
