// The feeds and the sitemap as strict readers see them: every document must be
// well-formed XML (a strict, namespace-aware parser), and a real feed parser
// must find the right fields, whatever hostile text the posts hold.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseFeed } from '@rowanmanning/feed-parser';
import { SaxesParser } from 'saxes';
import { createAccountsService } from '../accounts/index.ts';
import { createSettings } from '../../platform/settings.ts';
import { systemClock } from '../../lib/clock.ts';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { buildToken, buildUser } from '../../../test/support/factories.ts';

const SITE = 'https://blog.example.test';

/** Parses a whole document with saxes in strict, namespace-aware mode; returns every error. */
function xmlErrors(xml: string): string[] {
  const errors: string[] = [];
  const parser = new SaxesParser({ xmlns: true, position: true });
  parser.on('error', (e) => errors.push(e.message));
  try {
    parser.write(xml).close();
  } catch (e) {
    errors.push((e as Error).message);
  }
  return errors;
}

// Hostile but legal input: markup-like text, CDATA ends, entities, bidi overrides, emoji.
const HOSTILE = [
  {
    title: '<b>Bold & "brave"</b> \'quotes\'',
    tags: ['<script>alert(1)</script>', 'a&b'],
    body: 'Text with ]]> and <![CDATA[ inside ]]> too.\n\n```\n]]>&amp;<tag>\n```',
  },
  {
    title: 'Entities &amp; &lt;not&gt; &nbsp; &#0; &#x1F600;',
    tags: ['"quoted"', ']]> end'],
    body: 'Entities: &amp; &copy; &#xFFFE; &bogus; <!-- not a comment -->',
  },
  { title: '\u202Eevil bidi\u202C and \u2066isolates\u2069 \u200F', tags: ['\u202Ertl'], body: 'Bidi \u202E overrides \u202D here \u200E.' },
  { title: 'Emoji 🎉 👩‍💻 and astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢', tags: ['🎉 party'], body: `Big body ${'🙂 word & <x> ]]> '.repeat(5_500)}` },
  {
    title: 'Links inside',
    tags: ['links'],
    body: '[relative](/posts/other-post), [sibling](other-post), [query](/search?q=a&b=c), [fragment](#part), [mail](mailto:a@example.test), [full](https://x.example/y)\n\n![a picture](/media/pic.png)',
  },
  { title: 'Control target', tags: ['control'], body: 'Replaced below.' },
];

eachDatabase('feeds that every reader can parse', (dialect) => {
  let t: TestApp;
  let token: string;
  const author = { password: '', id: 0 };

  before(async () => {
    t = await buildTestApp(dialect, { env: { SITE_URL: SITE } });
    const writer = await buildUser(t, { role: 'author' });
    token = await buildToken(t, writer);
    for (const p of HOSTILE) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/posts',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload: { ...p, status: 'published' },
      });
      assert.equal(res.statusCode, 201, res.body);
    }
    // A writer who leaves: the post stays, with no author account behind it.
    const leaver = await buildUser(t, { role: 'author' });
    Object.assign(author, leaver);
    const leaverToken = await buildToken(t, leaver);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/posts',
      headers: { authorization: `Bearer ${leaverToken}` },
      payload: { title: 'Orphaned post', body: 'Its writer left.', status: 'published' },
    });
    assert.equal(res.statusCode, 201, res.body);
    const accounts = createAccountsService({ db: t.db.kysely, clock: systemClock, settings: createSettings(t.db.kysely) });
    await accounts.deleteAccount(leaver.id, leaver.password);
  });
  after(() => t.close());

  const get = (url: string) => t.app.inject({ url });

  test('RSS, Atom and the sitemap are well-formed for a strict XML parser', async () => {
    for (const url of ['/feed.xml', '/atom.xml', '/sitemap.xml']) {
      const res = await get(url);
      assert.equal(res.statusCode, 200);
      assert.deepEqual(xmlErrors(res.body), [], url);
    }
  });

  test('characters XML forbids, already in the database, are left out of every XML output', async () => {
    // Written straight to the database, as data from before input was checked would be.
    const bad = 'Bell\u0007 form\u000c feed \uFFFE\uFFFF end\u0001';
    const post = await t.db.kysely.selectFrom('posts').select('id').where('slug', '=', 'control-target').executeTakeFirstOrThrow();
    await t.db.kysely
      .updateTable('posts')
      .set({ title: `Control ${bad}`, body_html: `<p>${bad}</p>`, excerpt: bad, custom_excerpt: bad })
      .where('id', '=', post.id)
      .execute();
    await t.db.kysely
      .updateTable('tags')
      .set({ name: `tag\u0007${'\u000b'}` })
      .where('slug', '=', 'control')
      .execute();
    for (const url of ['/feed.xml', '/atom.xml', '/sitemap.xml']) {
      const res = await get(url);
      assert.equal(res.statusCode, 200);
      assert.deepEqual(xmlErrors(res.body), [], url);
      assert.doesNotMatch(res.body, /[\u0000-\u0008\u000b\u000c\u000e-\u001f\uFFFE\uFFFF]/, url);
    }
    const atom = parseFeed((await get('/atom.xml')).body);
    assert.ok(
      atom.items.some((i) => i.title === 'Control Bell form feed  end'),
      atom.items.map((i) => i.title).join(' | '),
    );
  });

  test('a real feed parser reads titles as text, category labels, authors and absolute links (Atom)', async () => {
    const feed = parseFeed((await get('/atom.xml')).body);
    assert.equal(feed.meta.type, 'atom');
    assert.equal(feed.title, 'Inkwell');
    assert.ok(feed.description, 'the feed has a subtitle');
    const byTitle = new Map(feed.items.map((i) => [i.title, i]));
    const bold = byTitle.get('<b>Bold & "brave"</b> \'quotes\'');
    assert.ok(bold, `a title with markup characters is text: ${[...byTitle.keys()].join(' | ')}`);
    assert.deepEqual(bold.categories.map((c) => c.label).sort(), ['<script>alert(1)</script>', 'a&b']);
    for (const p of HOSTILE.slice(2, 4)) assert.ok(byTitle.has(p.title), `title kept exactly: ${p.title}`);
    // This parser decodes entities in text titles a second time (its leniency), so read that one raw.
    assert.match((await get('/atom.xml')).body, /<title type="text">Entities &amp;amp; &amp;lt;not&amp;gt; &amp;nbsp; &amp;#0; &amp;#x1F600;<\/title>/);
    const big = byTitle.get(HOSTILE[3].title)!;
    assert.ok(big.content!.length > 95_000, `the ~100 KB body is all there: ${big.content!.length}`);
    for (const item of feed.items) {
      assert.ok(item.authors.length > 0 && item.authors[0].name, `"${item.title}" has an author`);
      assert.match(item.url ?? '', new RegExp(`^${SITE}/posts/`));
    }
    assert.equal(byTitle.get('Orphaned post')!.authors[0].name, 'Inkwell', "a deleted account's post is by the site");
    const links = byTitle.get('Links inside')!.content!;
    assert.match(links, /href="https:\/\/blog\.example\.test\/posts\/other-post"/);
    assert.match(links, /src="https:\/\/blog\.example\.test\/media\/pic\.png"/);
    assert.match(links, /href="https:\/\/x\.example\/y"/);
    assert.match(links, /href="mailto:a@example\.test"/);
    assert.doesNotMatch(links, /(href|src)="\//, 'no root-relative link is left');
  });

  test('a real feed parser finds the channel description, dc:creator authors and categories (RSS)', async () => {
    const res = await get('/feed.xml');
    const feed = parseFeed(res.body);
    assert.equal(feed.meta.type, 'rss');
    assert.ok(feed.description && feed.description.length > 0, 'the channel has a description');
    // RSS 2.0's <author> is an email address; names go in dc:creator.
    assert.doesNotMatch(res.body, /<author>/);
    const byTitle = new Map(feed.items.map((i) => [i.title, i]));
    const bold = byTitle.get('<b>Bold & "brave"</b> \'quotes\'');
    assert.ok(bold, [...byTitle.keys()].join(' | '));
    assert.deepEqual(bold.categories.map((c) => c.term).sort(), ['<script>alert(1)</script>', 'a&b']);
    for (const item of feed.items) assert.ok(item.authors[0]?.name, `"${item.title}" has a dc:creator`);
    assert.equal(byTitle.get('Orphaned post')!.authors[0].name, 'Inkwell');
    assert.match(byTitle.get('Links inside')!.content!, /src="https:\/\/blog\.example\.test\/media\/pic\.png"/);
  });
});
