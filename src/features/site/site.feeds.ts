import type { FastifyInstance } from 'fastify';
import type { Feed } from 'feed';
import { xmlEscape } from '../../lib/html.ts';
import type { Post, PostsService } from '../posts/index.ts';

const FEED_SIZE = 20;
const SITEMAP_MAX = 50_000; // the sitemap protocol's limit for one file

/** RSS 2.0, Atom and the sitemap, built from published posts. */
export async function feedRoutes(app: FastifyInstance, opts: { posts: PostsService; siteUrl: string; siteName: () => string }) {
  const { posts, siteUrl } = opts;

  async function buildFeed(): Promise<Feed> {
    const { posts: latest } = await posts.list(null, { limit: FEED_SIZE });
    // Loaded on the first feed request, not at start-up (issue 6: start time and idle memory).
    const { Feed } = await import('feed');
    const feed = new Feed({
      title: opts.siteName(),
      id: `${siteUrl}/`,
      link: `${siteUrl}/`,
      language: 'en',
      updated: latest[0] ? new Date(latest[0].updatedAt) : new Date(0),
      generator: 'Inkwell',
      feedLinks: { rss: `${siteUrl}/feed.xml`, atom: `${siteUrl}/atom.xml` },
      copyright: `© ${opts.siteName()}`,
    });
    for (const p of latest) feed.addItem(item(p));
    return feed;
  }

  function item(p: Post) {
    const link = `${siteUrl}/posts/${p.slug}`;
    return {
      title: p.title,
      id: link,
      guid: link,
      link,
      date: new Date(p.updatedAt),
      published: new Date(p.publishedAt ?? p.createdAt),
      description: p.excerpt,
      content: p.bodyHtml,
      author: p.author ? [{ name: p.author.displayName }] : undefined,
      category: p.tags.map((t) => ({ name: t.name, term: t.slug })),
    };
  }

  // Anonymous answers are kept until the database changes (platform/http/response-cache.ts).
  const cached = { config: { cacheAnonymous: true } };
  app.get('/feed.xml', cached, async (_request, reply) => {
    reply.type('application/rss+xml; charset=utf-8').header('cache-control', 'public, max-age=300');
    return (await buildFeed()).rss2();
  });

  app.get('/atom.xml', cached, async (_request, reply) => {
    reply.type('application/atom+xml; charset=utf-8').header('cache-control', 'public, max-age=300');
    return (await buildFeed()).atom1();
  });

  app.get('/sitemap.xml', cached, async (_request, reply) => {
    const rows = await posts.sitemapEntries(SITEMAP_MAX - 1);
    const urls = [`<url><loc>${xmlEscape(`${siteUrl}/`)}</loc></url>`]
      .concat(rows.map((r) => `<url><loc>${xmlEscape(`${siteUrl}/posts/${r.slug}`)}</loc><lastmod>${r.updated_at}</lastmod></url>`));
    reply.type('application/xml; charset=utf-8').header('cache-control', 'public, max-age=300');
    return `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${urls.join('\n')}\n</urlset>\n`;
  });
}
