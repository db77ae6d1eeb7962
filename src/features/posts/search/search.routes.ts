import type { FastifyInstance } from 'fastify';
import { AppError } from '../../../platform/errors.ts';
import { sendPage } from '../../../platform/http/layout.ts';
import type { PostsService } from '../posts.service.ts';
import { MAX_OFFSET } from './search.input.ts';
import { searchPageHtml } from './views/search-page.ts';

// Query values arrive as a string, an array (?q=a&q=b) or not at all.
const first = (v: unknown): string => (typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : '');

/** GET /search: the search form and, given q, the published posts that match. */
export async function searchRoutes(app: FastifyInstance, opts: { posts: PostsService }) {
  const { posts } = opts;

  app.get('/search', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const q = first(query.q);
    // The site's "posts per page", like every list of posts; relevance pages end at MAX_OFFSET.
    const size = request.server.layout.site.settings().postsPerPage;
    const page = Math.min(Math.max(/^\d{1,4}$/.test(first(query.page)) ? Number(first(query.page)) : 1, 1), Math.floor(MAX_OFFSET / size) + 1);
    // Result pages are many and thin: keep them out of search engines' indexes (noindex).
    if (!q.trim())
      return sendPage(request, reply, { title: 'Search', noindex: true, body: searchPageHtml({ q, results: null, prevHref: null, nextHref: null }) });

    try {
      const found = await posts.search(q, { limit: size, offset: (page - 1) * size, summary: true });
      const href = (n: number) => `/search?q=${encodeURIComponent(q)}${n > 1 ? `&page=${n}` : ''}`;
      return sendPage(request, reply, {
        title: `Search: ${q}`,
        noindex: true,
        body: searchPageHtml({
          q,
          results: found.posts,
          prevHref: page > 1 ? href(page - 1) : null,
          nextHref: found.nextOffset !== null ? href(page + 1) : null,
        }),
      });
    } catch (err) {
      // A query we can't take: the form again, as typed, with the reason.
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      const message = err.errors.find((e) => e.field === 'q')?.message ?? err.message;
      return sendPage(request, reply, {
        title: 'Search',
        noindex: true,
        status: err.status,
        body: searchPageHtml({ q, results: null, error: `Your search ${message}.`, prevHref: null, nextHref: null }),
      });
    }
  });
}
