import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors.ts';
import { requireUser } from '../../platform/http/auth.ts';
import { csrfField } from '../../platform/http/forms.ts';
import { sendPage } from '../../platform/http/layout.ts';
import { decodeCursor, encodeCursor } from '../../lib/cursor.ts';
import { html } from '../../lib/html.ts';
import { postListHtml, type Post, type PostsService } from '../posts/index.ts';
import type { Relation, SocialService } from './social.service.ts';

type UserParams = { Params: { username: string } };
type SlugParams = { Params: { slug: string } };

/** Follower counts and the follow button for a profile page (plain forms, no JavaScript). */
export function followHtml(request: FastifyRequest, r: Relation): string {
  const counts = html`<p class="meta">${r.followers} ${r.followers === 1 ? 'follower' : 'followers'} · following ${r.followingCount}</p>`;
  const me = request.user;
  if (!me) return counts + html`<p><a href="/login?next=${encodeURIComponent(`/@${r.username}`)}">Log in to follow @${r.username}</a></p>`;
  if (me.username === r.username) return counts;
  const action = r.following ? 'unfollow' : 'follow';
  return (
    counts +
    html`<form method="post" action="/@${r.username}/${action}" class="inline">!${csrfField(request.csrfToken())}
<button type="submit"!${r.following ? ' class="secondary" aria-pressed="true"' : ' aria-pressed="false"'}>${r.following ? 'Following · Unfollow' : `Follow @${r.username}`}</button></form>`
  );
}

/** The favourite button and count under a post. */
export function favoriteHtml(request: FastifyRequest, post: Post, favorited: boolean): string {
  const count = html`<span class="favorites">♥ ${post.favoritesCount} ${post.favoritesCount === 1 ? 'favourite' : 'favourites'}</span>`;
  const me = request.user;
  if (!me)
    return html`<p id="favorite" class="meta">!${count} · <a href="/login?next=${encodeURIComponent(`/posts/${post.slug}`)}">Log in to favourite</a></p>`;
  const action = favorited ? 'unfavorite' : 'favorite';
  return html`<form id="favorite" method="post" action="/posts/${post.slug}/${action}" class="inline">!${csrfField(request.csrfToken())}
<button type="submit" aria-pressed="${favorited ? 'true' : 'false'}">${favorited ? '♥ Favourited · Undo' : '♡ Favourite'}</button> !${count}</form>`;
}

/** Follow and favourite forms, and the personal feed page (/feed). */
export async function socialRoutes(app: FastifyInstance, opts: { social: SocialService; posts: PostsService }) {
  const { social, posts } = opts;

  app.post<UserParams>('/@:username/follow', async (request, reply) => {
    const r = await social.follow(requireUser(request), request.params.username);
    reply.setFlash(`You follow @${r.username} now. Their new posts appear in your feed.`);
    return reply.code(303).redirect(`/@${r.username}`);
  });

  app.post<UserParams>('/@:username/unfollow', async (request, reply) => {
    const r = await social.unfollow(requireUser(request), request.params.username);
    reply.setFlash(`You no longer follow @${r.username}`);
    return reply.code(303).redirect(`/@${r.username}`);
  });

  app.post<SlugParams>('/posts/:slug/favorite', async (request, reply) => {
    const post = await social.favorite(requireUser(request), request.params.slug);
    reply.setFlash('Added to your favourites');
    return reply.code(303).redirect(`/posts/${post.slug}#favorite`);
  });

  app.post<SlugParams>('/posts/:slug/unfavorite', async (request, reply) => {
    const post = await social.unfavorite(requireUser(request), request.params.slug);
    reply.setFlash('Removed from your favourites');
    return reply.code(303).redirect(`/posts/${post.slug}#favorite`);
  });

  app.get<{ Querystring: { before?: string } }>('/feed', async (request, reply) => {
    const user = requireUser(request);
    const raw = request.query.before;
    const before = raw ? decodeCursor(raw) : undefined;
    if (before === null) throw new AppError('bad_request', 'The "before" page marker is not valid; start again from the first page');
    const limit = request.server.layout.site.settings().postsPerPage;
    const page = await posts.list(user, { followedBy: user.id, before, limit, summary: true });
    return sendPage(request, reply, {
      title: 'Your feed',
      body: postListHtml({
        heading: 'Your feed',
        posts: page.posts,
        intro: html`<p>New posts by the people you follow, newest first.</p>`,
        empty: 'Nothing here yet. Follow writers from their profile pages (the “Follow” button) and their posts show up here.',
        olderHref: page.nextCursor ? `/feed?before=${encodeCursor(page.nextCursor)}` : null,
      }),
    });
  });
}
