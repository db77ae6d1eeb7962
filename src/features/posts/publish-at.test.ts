import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, setSite } from '../../../test/support/factories.ts';
import { apiRequest } from '../../../test/support/request.ts';

// The editor's "Publish at" is a wall-clock time in the site's time zone (site settings), not UTC.
eachDatabase('"Publish at" in the site time zone', (dialect) => {
  let t: TestApp;
  let web: Client;
  let token: string;
  let n = 0;

  before(async () => {
    t = await buildTestApp(dialect);
    const author = await buildUser(t, { role: 'author' });
    token = await buildToken(t, author);
    web = new Client(t.app);
    assert.equal((await web.login(author.username, author.password)).status, 303);
    await setSite(t, { timeZone: 'America/New_York' });
  });
  after(() => t.close());

  // Schedules through the editor's form; returns the instant stored (read back through the API).
  async function schedule(local: string): Promise<{ slug: string; publishedAt: string }> {
    n += 1;
    await web.get('/posts/new');
    const res = await web.postForm('/posts', { title: `Zoned ${n}`, body: 'Soon.', publishedAt: local, status: 'scheduled' });
    assert.equal(res.status, 303, res.body);
    const slug = `zoned-${n}`;
    const api = await apiRequest(t.app, 'GET', `/api/v1/posts/${slug}`, { token });
    return { slug, publishedAt: api.json().publishedAt };
  }

  test('a time is read in the site zone, in winter and in summer, and the edit form shows it back as typed', async () => {
    assert.match((await web.get('/posts/new')).body, /America\/New_York time; only for “Schedule”/);
    const winter = await schedule('2030-01-15T09:00');
    assert.equal(winter.publishedAt, '2030-01-15T14:00:00.000Z');
    const summer = await schedule('2030-07-15T09:00');
    assert.equal(summer.publishedAt, '2030-07-15T13:00:00.000Z');
    const edit = await web.get(`/posts/${summer.slug}/edit`);
    assert.match(edit.body, /name="publishedAt"[^>]*value="2030-07-15T09:00"/);
    assert.match((await web.get(`/posts/${summer.slug}`)).body, /Scheduled for <time datetime="2030-07-15T13:00:00.000Z">15 July 2030, 09:00 GMT-4<\/time>/);
  });

  test('across the clock changes: a skipped time moves forward, a repeated one is the first', async () => {
    // 10 March 2030, 02:00 EST → 03:00 EDT: 02:30 does not exist; it means 03:30 EDT.
    assert.equal((await schedule('2030-03-10T02:30')).publishedAt, '2030-03-10T07:30:00.000Z');
    // 3 November 2030, 02:00 EDT → 01:00 EST: 01:30 happens twice; the first is EDT.
    assert.equal((await schedule('2030-11-03T01:30')).publishedAt, '2030-11-03T05:30:00.000Z');
  });

  test('a change of the site zone applies at once, and bad input comes back as typed', async () => {
    await setSite(t, { timeZone: 'Europe/Berlin' });
    try {
      assert.equal((await schedule('2030-07-15T09:00')).publishedAt, '2030-07-15T07:00:00.000Z');
      await web.get('/posts/new');
      const bad = await web.postForm('/posts', { title: 'Bad time', body: 'x', publishedAt: '2030-02-30T09:00', status: 'scheduled' });
      assert.equal(bad.status, 422);
      const page = bad.body;
      assert.match(page, /name="publishedAt"[^>]*value="2030-02-30T09:00"/);
      assert.match(page, /Publish at/);
    } finally {
      await setSite(t, { timeZone: 'America/New_York' });
    }
  });
});
