import type { FastifyInstance } from 'fastify';
import { el, xmlDocument, type XmlNode } from '../../lib/xml.ts';
import type { Site } from '../../platform/site.ts';
import type { PagesService } from '../pages/index.ts';
import { featureImageIds, type PostImagesPort, type PostsService } from '../posts/index.ts';

const FEED_SIZE = 20;
const SITEMAP_MAX = 50_000; // the sitemap protocol's limit for one file
const ATOM = 'http://www.w3.org/2005/Atom';

// Sanitized post HTML quotes every attribute with double quotes (sanitize-html's output).
const LINK_ATTR = /\s(href|src)="([^"]*)"/g;
const HAS_SCHEME = /^[a-z][a-z\d+.-]*:/i;

/**
 * A post's HTML with relative links and images made absolute against the
 * post's own address: a feed reader shows the body away from the site, where a
 * relative URL points nowhere (most readers ignore xml:base).
 */
export function absoluteLinks(html: string, base: string): string {
  return html.replace(LINK_ATTR, (whole, attr: string, url: string) => {
    if (HAS_SCHEME.test(url)) return whole;
    try {
      return ` ${attr}="${new URL(url.replace(/&amp;/g, '&'), base).href.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}"`;
    } catch {
      return whole;
    }
  });
}

/**
 * RSS 2.0, Atom and the sitemap, built from published posts. They are written
 * with the escaped-by-default XML writer in lib/xml.ts, so whatever a post
 * holds (markup-like titles and tags, `]]>`, characters XML forbids) the
 * documents stay well-formed.
 */
export async function feedRoutes(
  app: FastifyInstance,
  opts: {
    posts: PostsService;
    pages: PagesService;
    site: Site;
    /** Featured images become enclosures. */
    images?: PostImagesPort;
  },
) {
  const { posts, site } = opts;
  const siteUrl = site.url;
  const home = `${siteUrl}/`;
  // The settings are current: the layout refreshes them at the start of every request.
  const siteName = () => site.name();
  const description = () => site.settings().description || `The latest posts from ${site.name()}`;
  const abs = (url: string) => new URL(url, home).href;

  const image = () => {
    const { logo, favicon } = site.settings();
    const img = logo ?? favicon;
    return img ? abs(img.url) : null;
  };

  async function latest() {
    const { posts: items } = await posts.list(null, { limit: FEED_SIZE });
    const ids = featureImageIds(items);
    const images = opts.images?.get();
    const files = images && ids.length ? await images.enclosures(ids) : new Map();
    return items.map((p) => {
      const link = `${siteUrl}/posts/${encodeURIComponent(p.slug)}`; // slugs may be in any script: URLs are ASCII
      return {
        post: p,
        link,
        html: absoluteLinks(p.bodyHtml, link),
        // An entry always has an author: its writer, or the site once the account is gone.
        author: p.author?.displayName ?? siteName(),
        published: new Date(p.publishedAt ?? p.createdAt),
        enclosure: p.featureImage ? files.get(p.featureImage.id) : undefined,
      };
    });
  }

  function rss(items: Awaited<ReturnType<typeof latest>>): string {
    const updated = items[0] ? new Date(items[0].post.updatedAt) : new Date(0);
    return xmlDocument(
      el(
        'rss',
        {
          version: '2.0',
          'xmlns:atom': ATOM,
          'xmlns:content': 'http://purl.org/rss/1.0/modules/content/',
          'xmlns:dc': 'http://purl.org/dc/elements/1.1/',
          'xmlns:media': 'http://search.yahoo.com/mrss/',
        },
        el(
          'channel',
          null,
          el('title', null, siteName()),
          el('link', null, home),
          el('description', null, description()),
          el('language', null, site.settings().language),
          el('lastBuildDate', null, updated.toUTCString()),
          el('generator', null, 'Inkwell'),
          el('atom:link', { href: `${siteUrl}/feed.xml`, rel: 'self', type: 'application/rss+xml' }),
          image() ? el('image', null, el('url', null, image()!), el('title', null, siteName()), el('link', null, home)) : null,
          items.map(({ post, link, html, author, published, enclosure }) =>
            el(
              'item',
              null,
              el('title', null, post.title),
              el('link', null, link),
              el('guid', { isPermaLink: 'true' }, link),
              el('pubDate', null, published.toUTCString()),
              // RSS's <author> must be an email address, and readers' addresses stay private.
              el('dc:creator', null, author),
              // description and content:encoded hold HTML, escaped as text.
              el('description', null, plainToHtml(post.excerpt)),
              el('content:encoded', null, html),
              post.tags.map((t) => el('category', { domain: `${siteUrl}/tags/` }, t.name)),
              // The featured image: <enclosure> for every reader, Media RSS for those that show pictures.
              enclosure ? el('enclosure', { url: enclosure.url, length: String(enclosure.length), type: enclosure.type }) : null,
              enclosure
                ? el('media:content', {
                    url: enclosure.url,
                    medium: 'image',
                    type: enclosure.type,
                    fileSize: String(enclosure.length),
                    width: String(enclosure.width),
                    height: String(enclosure.height),
                  })
                : null,
            ),
          ),
        ),
      ),
    );
  }

  function atom(items: Awaited<ReturnType<typeof latest>>): string {
    const updated = items[0] ? new Date(items[0].post.updatedAt) : new Date(0);
    const { favicon, logo } = site.settings();
    return xmlDocument(
      el(
        'feed',
        { xmlns: ATOM, 'xml:lang': site.settings().language },
        el('id', null, home),
        el('title', { type: 'text' }, siteName()),
        el('subtitle', { type: 'text' }, description()),
        el('updated', null, updated.toISOString()),
        el('link', { rel: 'alternate', type: 'text/html', href: home }),
        el('link', { rel: 'self', type: 'application/atom+xml', href: `${siteUrl}/atom.xml` }),
        el('generator', null, 'Inkwell'),
        favicon ? el('icon', null, abs(favicon.url)) : null,
        logo ? el('logo', null, abs(logo.url)) : null,
        // The fallback author for the feed, as Atom asks every entry to have one.
        el('author', null, el('name', null, siteName()), el('uri', null, home)),
        items.map(
          ({ post, link, html, author, published, enclosure }): XmlNode =>
            el(
              'entry',
              null,
              // Titles and summaries are plain text: a title "<b>&" is those characters, not markup.
              el('title', { type: 'text' }, post.title),
              el('id', null, link),
              el('link', { rel: 'alternate', type: 'text/html', href: link }),
              enclosure ? el('link', { rel: 'enclosure', type: enclosure.type, length: String(enclosure.length), href: enclosure.url }) : null,
              el('published', null, published.toISOString()),
              el('updated', null, new Date(post.updatedAt).toISOString()),
              el('author', null, el('name', null, author), post.author ? el('uri', null, `${siteUrl}/@${post.author.username}`) : null),
              el('summary', { type: 'text' }, post.excerpt),
              el('content', { type: 'html', 'xml:base': link }, html),
              post.tags.map((t) => el('category', { term: t.slug, label: t.name, scheme: `${siteUrl}/tags/` })),
            ),
        ),
      ),
    );
  }

  // Anonymous answers are kept until the database changes (platform/http/response-cache.ts).
  const cached = { config: { cacheAnonymous: true } };
  app.get('/feed.xml', cached, async (_request, reply) => {
    reply.type('application/rss+xml; charset=utf-8').header('cache-control', 'public, max-age=300');
    return rss(await latest());
  });

  app.get('/atom.xml', cached, async (_request, reply) => {
    reply.type('application/atom+xml; charset=utf-8').header('cache-control', 'public, max-age=300');
    return atom(await latest());
  });

  app.get('/sitemap.xml', cached, async (_request, reply) => {
    // Pages are in the sitemap (never in the feeds, which are for new posts).
    const pageRows = await opts.pages.sitemapEntries();
    const rows = await posts.sitemapEntries(SITEMAP_MAX - 1 - pageRows.length);
    const urls = [el('url', null, el('loc', null, home))]
      .concat(pageRows.map((r) => el('url', null, el('loc', null, `${siteUrl}/pages/${encodeURIComponent(r.slug)}`), el('lastmod', null, r.updatedAt))))
      .concat(rows.map((r) => el('url', null, el('loc', null, `${siteUrl}/posts/${encodeURIComponent(r.slug)}`), el('lastmod', null, r.updated_at))));
    reply.type('application/xml; charset=utf-8').header('cache-control', 'public, max-age=300');
    return xmlDocument(el('urlset', { xmlns: 'http://www.sitemaps.org/schemas/sitemap/0.9' }, urls));
  });
}

/** Plain text as HTML (escaped), for RSS's description, which readers treat as HTML. */
function plainToHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
