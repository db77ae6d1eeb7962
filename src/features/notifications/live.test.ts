import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DIALECTS, buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { buildToken, buildUser, type TestUser } from '../../../test/support/factories.ts';
import { openSse, type SseClient } from '../../../test/support/sse.ts';

async function listen(t: TestApp): Promise<string> {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
}

eachDatabase('live events (server-sent)', (dialect) => {
  let t: TestApp;
  let base: string;
  let ann: TestUser, bob: TestUser;
  const tokens = new Map<number, string>();
  const streams: SseClient[] = [];

  before(async () => {
    t = await buildTestApp(dialect, { env: { LIVE_MAX_STREAMS: '3' }, workers: 2 });
    base = await listen(t);
    [ann, bob] = await Promise.all([buildUser(t, { role: 'author' }), buildUser(t, { role: 'reader' })]);
    for (const u of [ann, bob]) tokens.set(u.id, await buildToken(t, u));
  });
  after(async () => {
    for (const s of streams) s.close();
    await t.close();
  });

  const auth = (u: TestUser) => ({ authorization: `Bearer ${tokens.get(u.id)}` });
  const api = (u: TestUser, method: string, url: string, body?: unknown) =>
    t.app.inject({ method: method as 'POST', url, payload: body as object, headers: auth(u) });
  const open = async (url: string, headers: Record<string, string> = {}) => {
    const s = await openSse(url, headers);
    streams.push(s);
    return s;
  };

  test('a reader of a post sees new comments; the person answered gets a notification with the unread count', async () => {
    const post = (await api(ann, 'POST', '/api/v1/posts', { title: 'Live post', body: 'x', status: 'published' })).json();
    const first = (await api(ann, 'POST', `/api/v1/posts/${post.id}/comments`, { body: 'Ann opens' })).json();
    const anon = await open(`${base}/api/v1/events?post=${post.id}`);
    assert.equal(anon.status, 200);
    const annStream = await open(`${base}/api/v1/events`, auth(ann));

    await api(bob, 'POST', `/api/v1/posts/${post.id}/comments`, { body: 'Bob <b>replies</b> live', parentId: first.id });
    const comment = await anon.waitFor((e) => e.event === 'comment' && /replies.* live/.test(JSON.parse(e.data).comment.bodyHtml));
    const data = JSON.parse(comment.data);
    assert.equal(data.containerId, `replies-${first.id}`);
    assert.match(data.html, /Bob &lt;b&gt;replies&lt;\/b&gt; live|Bob &#60;b&#62;replies/);
    assert.doesNotMatch(data.html, /<b>replies/);
    assert.ok(Number(comment.id) > 0);

    const note = await annStream.waitFor((e) => e.event === 'notification');
    const n = JSON.parse(note.data);
    assert.equal(n.notification.kind, 'reply_to_comment');
    assert.equal(n.unreadCount, 1);
    assert.equal(annStream.events.filter((e) => e.event === 'comment').length, 0, 'no ?post, no comments');
  });

  test('a reconnect with Last-Event-ID gets exactly what it missed', async () => {
    const post = (await api(ann, 'POST', '/api/v1/posts', { title: 'Reconnect post', body: 'x', status: 'published' })).json();
    const s1 = await open(`${base}/api/v1/events?post=${post.id}`, auth(ann));
    await api(bob, 'POST', `/api/v1/posts/${post.id}/comments`, { body: 'before the drop' });
    const seen = await s1.waitFor((e) => e.event === 'comment' && /before the drop/.test(e.data));
    await s1.waitFor((e) => e.event === 'notification' && e.id === seen.id);
    s1.close();
    await api(bob, 'POST', `/api/v1/posts/${post.id}/comments`, { body: 'missed one' });
    await api(bob, 'POST', `/api/v1/posts/${post.id}/comments`, { body: 'missed two' });
    await new Promise((r) => setTimeout(r, 300));
    const s2 = await open(`${base}/api/v1/events?post=${post.id}`, { ...auth(ann), 'last-event-id': seen.id! });
    await s2.waitFor((e) => e.event === 'comment' && /missed two/.test(e.data));
    const comments = s2.events.filter((e) => e.event === 'comment').map((e) => JSON.parse(e.data).comment.bodyHtml);
    assert.equal(comments.length, 2);
    assert.match(comments[0], /missed one/);
    await s2.waitFor((e) => e.event === 'notification' && s2.events.filter((x) => x.event === 'notification').length === 2);
  });

  test('streams are bounded, need a reason to exist, and are freed on disconnect', async () => {
    for (const s of streams.splice(0)) s.close();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await t.app.inject({ url: '/api/v1/events' })).statusCode, 401);
    assert.equal((await t.app.inject({ url: '/api/v1/events?post=abc' })).statusCode, 422);
    const held = [
      await open(`${base}/api/v1/events`, auth(ann)),
      await open(`${base}/api/v1/events`, auth(bob)),
      await open(`${base}/api/v1/events`, auth(ann)),
    ];
    const refused = await fetch(`${base}/api/v1/events`, { headers: auth(bob) });
    assert.equal(refused.status, 503);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    held[0].close();
    // The server frees the slot once it sees the disconnect: wait for that, however long it takes.
    let again = await open(`${base}/api/v1/events`, auth(bob));
    for (let i = 0; i < 600 && again.status === 503; i++) {
      again.close();
      await new Promise((r) => setTimeout(r, 50));
      again = await open(`${base}/api/v1/events`, auth(bob));
    }
    assert.equal(again.status, 200);
  });
});

test('across two instances on one PostgreSQL, with a dropped LISTEN connection', {
  skip: DIALECTS.includes('postgres') ? false : 'INKWELL_TEST_DATABASE_URL is not set',
}, async () => {
  const a = await buildTestApp('postgres', { workers: 2 });
  const b = await buildTestApp('postgres', { sameDbAs: a, workers: 2 });
  const streams: SseClient[] = [];
  try {
    const baseB = await listen(b);
    const ann = await buildUser(a, { role: 'author' });
    const bob = await buildUser(a, { role: 'reader' });
    const annToken = await buildToken(a, ann);
    const bobToken = await buildToken(a, bob);
    const post = (
      await a.app.inject({
        method: 'POST',
        url: '/api/v1/posts',
        headers: { authorization: `Bearer ${annToken}` },
        payload: { title: 'Two servers', body: 'x', status: 'published' },
      })
    ).json();
    const onB = await openSse(`${baseB}/api/v1/events?post=${post.id}`, { authorization: `Bearer ${annToken}` });
    streams.push(onB);
    const say = (body: string) =>
      a.app.inject({ method: 'POST', url: `/api/v1/posts/${post.id}/comments`, headers: { authorization: `Bearer ${bobToken}` }, payload: { body } });

    await say('written on A');
    await onB.waitFor((e) => e.event === 'comment' && /written on A/.test(e.data));
    await onB.waitFor((e) => e.event === 'notification');

    await b.live.dropConnection!();
    await say('while B was not listening');
    await onB.waitFor((e) => e.event === 'comment' && /while B was not listening/.test(e.data), 15_000);
  } finally {
    for (const s of streams) s.close();
    await b.close();
    await a.close();
  }
});
