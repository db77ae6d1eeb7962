import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser } from '../../../test/support/factories.ts';
import { apiRequest } from '../../../test/support/request.ts';

// Unpublishing is an event of its own: post.unpublished, for webhooks and any subscriber.
eachDatabase('unpublishing records post.unpublished', (dialect) => {
  let t: TestApp;
  let server: http.Server;
  const got: { event: string; data: { id: number; slug: string; title: string } }[] = [];
  let hookUrl = '';
  let adminToken: string;

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        got.push(JSON.parse(body));
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
    t = await buildTestApp(dialect);
    adminToken = await buildToken(t, await buildUser(t, { role: 'admin' }));
  });
  after(async () => {
    await t.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  async function settle() {
    for (let i = 0; i < 5; i++) {
      await t.queue.drain({ types: ['event.dispatch'] });
      await t.queue.drain();
    }
  }

  test('the Unpublish button records it once; a webhook hears it; feeds and search drop the post', async () => {
    const hook = await apiRequest(t.app, 'POST', '/api/v1/webhooks', {
      token: adminToken,
      body: { url: hookUrl, events: ['post.published', 'post.unpublished'] },
    });
    assert.equal(hook.statusCode, 201, hook.body);
    const author = await buildUser(t, { role: 'author' });
    const token = await buildToken(t, author);
    const post = (
      await apiRequest(t.app, 'POST', '/api/v1/posts', { token, body: { title: 'Going away', body: 'About quokkapotamus.', status: 'published' } })
    ).json();
    await settle();
    assert.match((await t.app.inject('/feed.xml')).body, /Going away/);
    assert.match((await t.app.inject('/search?q=quokkapotamus')).body, /Going away/);

    const web = new Client(t.app);
    await web.login(author.username, author.password);
    await web.get(`/posts/${post.slug}/edit`);
    assert.equal((await web.postForm(`/posts/${post.slug}/unpublish`, {})).status, 303);
    await settle();

    const rows = await t.db.kysely.selectFrom('events').select(['type', 'payload']).where('type', '=', 'post.unpublished').execute();
    assert.equal(rows.length, 1);
    assert.deepEqual(JSON.parse(rows[0].payload as string), { postId: post.id, slug: post.slug, title: 'Going away' });
    assert.deepEqual(
      got.map((g) => g.event),
      ['post.published', 'post.unpublished'],
    );
    assert.deepEqual(got[1].data, { id: post.id, slug: post.slug, title: 'Going away' });
    assert.doesNotMatch((await t.app.inject('/feed.xml')).body, /Going away/);
    assert.doesNotMatch((await t.app.inject('/search?q=quokkapotamus')).body, /Going away/);

    // Saving the draft again is no second unpublishing; publishing it again is post.published.
    await apiRequest(t.app, 'PATCH', `/api/v1/posts/${post.id}`, { token, body: { title: 'Going away, edited' } });
    await apiRequest(t.app, 'PATCH', `/api/v1/posts/${post.id}`, { token, body: { status: 'published' } });
    await settle();
    assert.deepEqual(
      got.map((g) => g.event),
      ['post.published', 'post.unpublished', 'post.published'],
    );
  });

  test('the API taking a post back to draft is an unpublishing too', async () => {
    const token = await buildToken(t, await buildUser(t, { role: 'author' }));
    const post = (await apiRequest(t.app, 'POST', '/api/v1/posts', { token, body: { title: 'Draft again', body: 'x', status: 'published' } })).json();
    const res = await apiRequest(t.app, 'PATCH', `/api/v1/posts/${post.id}`, { token, body: { status: 'draft' } });
    assert.equal(res.statusCode, 200, res.body);
    const rows = await t.db.kysely.selectFrom('events').select('payload').where('type', '=', 'post.unpublished').execute();
    assert.ok(rows.some((r) => JSON.parse(r.payload as string).postId === post.id));
  });
});
