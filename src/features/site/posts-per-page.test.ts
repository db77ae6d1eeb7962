import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { Client } from '../../../test/support/browser.ts';
import { buildToken, buildUser, setSite, type TestUser } from '../../../test/support/factories.ts';
import { apiRequest } from '../../../test/support/request.ts';

// "Posts per page" (site settings) pages every HTML list of posts, not only the front page.
eachDatabase('posts per page everywhere', (dialect) => {
  let t: TestApp;
  let author: TestUser;
  let reader: Client;

  before(async () => {
    t = await buildTestApp(dialect);
    author = await buildUser(t, { role: 'author' });
    const token = await buildToken(t, author);
    for (let i = 1; i <= 3; i++) {
      const res = await apiRequest(t.app, 'POST', '/api/v1/posts', {
        token,
        body: { title: `Paged ${i}`, body: `About wombatology ${i}.`, tags: ['paging'], status: 'published' },
      });
      assert.equal(res.statusCode, 201, res.body);
    }
    const follower = await buildUser(t, { role: 'reader' });
    reader = new Client(t.app);
    await reader.login(follower.username, follower.password);
    await reader.get(`/@${author.username}`);
    assert.equal((await reader.postForm(`/@${author.username}/follow`, {})).status, 303);
    await setSite(t, { postsPerPage: 2 });
  });
  after(() => t.close());

  const shown = (body: string) => (body.match(/>Paged \d</g) ?? []).length;

  test('profiles, tag pages, search and the personal feed show that many, then a link to more', async () => {
    for (const url of ['/', `/@${author.username}`, '/tags/paging', '/search?q=wombatology', '/feed']) {
      const page = await reader.get(url);
      assert.equal(page.status, 200, url);
      assert.equal(shown(page.body), 2, url);
      assert.match(page.body, /href="\/[^"]*(before&#61;|page&#61;2)[^"]*" rel="next"/, `${url} links to the next page`);
    }
    const second = await reader.get('/search?q=wombatology&page=2');
    assert.equal(shown(second.body), 1);
  });

  test('a change of the setting applies at once', async () => {
    await setSite(t, { postsPerPage: 3 });
    try {
      for (const url of [`/@${author.username}`, '/tags/paging', '/search?q=wombatology', '/feed']) assert.equal(shown((await reader.get(url)).body), 3, url);
    } finally {
      await setSite(t, { postsPerPage: 2 });
    }
  });
});
