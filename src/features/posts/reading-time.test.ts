// Reading time on cards and post pages, and times of day in the site's time zone.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parse } from 'node-html-parser';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, setSite, type TestUser } from '../../../test/support/factories.ts';
import { apiRequest } from '../../../test/support/request.ts';
import { isoToZonedLocal, zonedLocalToIso } from '../../lib/dates.ts';
import { countWords, readingMinutes } from './posts.queries.ts';

test('words are counted from the text, not the markup; at 230 a minute, never less than one minute', () => {
  assert.equal(countWords('<h2>Two words</h2><p>and <a href="/x">three</a> more &amp; <code>x = 1</code></p>'), 7);
  assert.equal(readingMinutes(0), 1);
  assert.equal(readingMinutes(230 * 4 + 100), 4);
  assert.equal(readingMinutes(230 * 4 + 120), 5);
});

test('the migration counts stored bodies and moves a body whose top heading is <h3> up to <h2>', async () => {
  const m = await import('../../../migrations/2026-11-30-0026-reading-time-and-headings.ts');
  assert.equal(m.headingsFromH2('<h3>A</h3><p>x</p><h4 id="b">B</h4>'), '<h2>A</h2><p>x</p><h3 id="b">B</h3>');
  assert.equal(m.headingsFromH2('<h2>A</h2><h4>B</h4>'), '<h2>A</h2><h4>B</h4>', 'already from h2: left as it is');
  assert.equal(m.headingsFromH2('<p>no headings, <hr> a rule</p>'), '<p>no headings, <hr> a rule</p>');
  assert.equal(m.words('<h2>Two words</h2><p>and <a href="/x">three</a> more</p>'), countWords('<h2>Two words</h2><p>and <a href="/x">three</a> more</p>'));
});

test('a datetime-local value is read in the zone, across summer time, and shown back the same', () => {
  assert.equal(zonedLocalToIso('2031-07-01T12:00', 'Europe/Berlin'), '2031-07-01T10:00:00.000Z');
  assert.equal(zonedLocalToIso('2031-01-15T12:00', 'Europe/Berlin'), '2031-01-15T11:00:00.000Z');
  assert.equal(zonedLocalToIso('2031-03-30T03:30', 'Europe/Berlin'), '2031-03-30T01:30:00.000Z', 'the first hour of summer time');
  assert.equal(zonedLocalToIso('2031-07-01T12:00', 'UTC'), '2031-07-01T12:00:00.000Z');
  assert.equal(zonedLocalToIso('2031-07-01T12:00', 'America/New_York'), '2031-07-01T16:00:00.000Z');
  assert.equal(isoToZonedLocal('2031-07-01T10:00:00.000Z', 'Europe/Berlin'), '2031-07-01T12:00');
  assert.equal(isoToZonedLocal('2031-07-01T16:00:00.000Z', 'America/New_York'), '2031-07-01T12:00');
});

eachDatabase('reading time and the site time zone', (dialect) => {
  let t: TestApp;
  let author: TestUser;
  let token: string;

  before(async () => {
    t = await buildTestApp(dialect);
    author = await buildUser(t, { role: 'author' });
    token = await buildToken(t, author);
  });
  after(() => t.close());

  test('a card and the post page say how long the post takes to read, from its body', async () => {
    const body = `# A heading\n\n${'word '.repeat(1150)}`;
    const res = await apiRequest(t.app, 'POST', '/api/v1/posts', { token, body: { title: 'A long read', body, status: 'published' } });
    assert.equal(res.statusCode, 201, res.body);
    const slug = res.json().slug;
    const front = parse((await t.app.inject({ url: '/' })).body);
    const card = front.querySelectorAll('.post-list > li').find((li) => li.querySelector('h2')?.text.includes('A long read'));
    assert.equal(card?.querySelector('.reading-time')?.text, '5 min read', '1152 words at 230 a minute');
    const page = parse((await t.app.inject({ url: `/posts/${slug}` })).body);
    assert.equal(page.querySelector('article.post .meta .reading-time')?.text, '5 min read');
    // An edit counts again.
    const edited = await apiRequest(t.app, 'PATCH', `/api/v1/posts/${slug}`, { token, body: { body: 'Short now.' } });
    assert.equal(edited.statusCode, 200, edited.body);
    const again = parse((await t.app.inject({ url: `/posts/${slug}` })).body);
    assert.equal(again.querySelector('.reading-time')?.text, '1 min read');
  });

  test("comments and scheduled posts show their time of day in the site's time zone", async () => {
    await setSite(t, { timeZone: 'Europe/Berlin' });
    try {
      const post = await apiRequest(t.app, 'POST', '/api/v1/posts', { token, body: { title: 'Talked about', body: 'Hello.', status: 'published' } });
      const slug = post.json().slug;
      const c = await apiRequest(t.app, 'POST', `/api/v1/posts/${slug}/comments`, { token, body: { body: 'A first comment.' } });
      assert.equal(c.statusCode, 201, c.body);
      const at = new Date(c.json().createdAt);
      const page = parse((await t.app.inject({ url: `/posts/${slug}` })).body);
      const time = page.querySelector('#comments .comment time');
      assert.equal(time?.getAttribute('datetime'), c.json().createdAt);
      const berlin = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
      assert.ok(time?.text.includes(berlin), `${time?.text} shows ${berlin}`);
      assert.match(time?.text ?? '', /GMT\+1|GMT\+2|CET|CEST/);

      const when = '2031-07-01T10:00:00.000Z';
      const scheduled = await apiRequest(t.app, 'POST', '/api/v1/posts', {
        token,
        body: { title: 'Later', body: 'Soon.', status: 'scheduled', publishedAt: when },
      });
      assert.equal(scheduled.statusCode, 201, scheduled.body);
      const web = new Client(t.app);
      assert.equal((await web.login(author.username, author.password)).status, 303);
      const own = await web.get(`/posts/${scheduled.json().slug}`);
      assert.equal(own.status, 200);
      assert.match(own.body, /Scheduled for <time datetime="2031-07-01T10:00:00.000Z">1 July 2031, 12:00 /);
      assert.match((await web.get('/admin/posts')).body, /Scheduled for <time datetime="2031-07-01T10:00:00.000Z">1 July 2031, 12:00 /);

      // The editor's "Publish at" is a time of day in the site's zone too.
      await web.get('/posts/new');
      assert.match(web.lastBody, /Europe\/Berlin time; only for “Schedule”/);
      const made = await web.postForm('/posts', {
        title: 'Berlin noon',
        slug: '',
        body: 'Midday.',
        excerpt: '',
        tags: '',
        status: 'scheduled',
        publishedAt: '2031-07-01T12:00',
      });
      assert.equal(made.status, 303, made.body);
      const stored = await apiRequest(t.app, 'GET', '/api/v1/posts/berlin-noon', { token });
      assert.equal(new Date(stored.json().publishedAt).toISOString(), '2031-07-01T10:00:00.000Z');
      const edit = parse((await web.get('/posts/berlin-noon/edit')).body);
      assert.equal(edit.querySelector('#publishedAt')?.getAttribute('value'), '2031-07-01T12:00');
    } finally {
      await setSite(t, { timeZone: 'UTC' });
    }
  });
});
