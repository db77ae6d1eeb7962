import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors.ts';
import { absoluteUrl, sendPage } from '../../platform/http/layout.ts';
import { decodeCursor, encodeCursor } from '../../lib/cursor.ts';
import type { PostsService } from '../posts/index.ts';
import type { AccountsService } from './accounts.service.ts';
import { profileHtml } from './views/profile.ts';

/** GET /@:username: an author's public page with their published posts. */
export async function profileRoutes(
  app: FastifyInstance,
  opts: {
    accounts: AccountsService;
    posts: PostsService;
    /** What other features show on a profile (follow button and counts); already HTML. */
    aside?: (request: FastifyRequest, username: string) => Promise<string>;
  },
) {
  app.get<{ Params: { username: string }; Querystring: { before?: string } }>('/@:username', async (request, reply) => {
    const profile = await opts.accounts.profile(request.params.username);
    const raw = request.query.before;
    const before = raw ? decodeCursor(raw) : undefined;
    if (before === null) throw new AppError('bad_request', 'The "before" page marker is not valid; start again from the first page');
    const site = request.server.layout.site;
    const { posts, nextCursor } = await opts.posts.list(request.user, { author: profile.username, before, limit: site.settings().postsPerPage });
    const url = absoluteUrl(site, `/@${profile.username}`);
    return sendPage(request, reply, {
      title: profile.displayName,
      description: profile.bio || `Posts by ${profile.displayName}`,
      canonical: `/@${profile.username}`,
      ogType: 'profile',
      ...(profile.avatarUrl ? { image: absoluteUrl(site, profile.avatarUrl) } : {}),
      jsonLd: {
        '@context': 'https://schema.org',
        '@type': 'ProfilePage',
        url,
        mainEntity: {
          '@type': 'Person',
          name: profile.displayName,
          alternateName: profile.username,
          url,
          ...(profile.bio ? { description: profile.bio } : {}),
          ...(profile.avatarUrl ? { image: absoluteUrl(site, profile.avatarUrl) } : {}),
        },
      },
      body: profileHtml(
        profile,
        posts,
        nextCursor ? `/@${profile.username}?before=${encodeCursor(nextCursor)}` : null,
        opts.aside ? await opts.aside(request, profile.username) : '',
      ),
    });
  });
}
