import type { FastifyRequest } from 'fastify';
import { html } from '../../lib/html.ts';
import type { AppContext, Feature } from '../../platform/feature.ts';
import type { AccountsFeature } from '../accounts/index.ts';
import type { PostsFeature } from '../posts/index.ts';
import { adminCommentsRoutes } from './comments.admin.ts';
import { commentsApi } from './comments.api.ts';
import { commentsRoutes } from './comments.routes.ts';
import { createCommentsService, isModerator, type CommentsService } from './comments.service.ts';
import { threadHtml } from './views/thread.ts';

// What other features may use from comments.
export { createCommentsService, type CommentsService, type ImportedComment, type ThreadItem } from './comments.service.ts';
export type { Comment } from './comments.queries.ts';
export { CommentCreateSchema } from './comments.schema.ts';
export { commentEventData, type CommentCreated, type CommentHeld } from './comments.events.ts';
export { commentHtml, threadHtml } from './views/thread.ts';

/** Comments: the thread under each post, forms, moderation, and the API. */
export function commentsFeature(ctx: AppContext, deps: { posts: PostsFeature; accounts: AccountsFeature }): Feature<CommentsService> {
  const service = createCommentsService({
    db: ctx.db.kysely,
    clock: ctx.clock,
    events: ctx.events,
    settings: ctx.settings,
    posts: deps.posts.service,
    accounts: deps.accounts.service,
    commenting: async () => (await ctx.site.refresh()).commenting,
  });
  return {
    service,
    async plugin(app) {
      deps.posts.belowPost.add(async (request, post) => {
        const { items, count } = await service.thread(request.user, post);
        return threadHtml(
          items,
          count,
          {
            user: request.user,
            csrf: request.user ? request.csrfToken() : '',
            postSlug: post.slug,
            postAuthorId: post.author?.id ?? null,
            now: ctx.clock.now().getTime(),
            commenting: ctx.site.settings().commenting,
            timeZone: ctx.site.settings().timeZone,
          },
          post.id,
        );
      }, 20);
      // The queue's count in the header, for moderators: loaded before the page renders.
      const held = new WeakMap<FastifyRequest, number>();
      ctx.chrome.preload(async (request) => {
        if (isModerator(request.user)) held.set(request, await service.heldCount());
      });
      ctx.chrome.add('nav', {
        order: 30,
        render: (request) => {
          if (!isModerator(request.user)) return '';
          const n = held.get(request) ?? 0;
          return html`<a href="/admin/comments">Comments!${n ? html` <span class="badge-count" aria-label="${n} awaiting approval">${n}</span>` : ''}</a>`;
        },
      });
      ctx.chrome.adminPage({ href: '/admin/comments', name: 'Comments', description: 'The moderation queue and setting', order: 20 });
      await app.register(commentsRoutes, { comments: service });
      await app.register(adminCommentsRoutes, { comments: service });
    },
    async api(api) {
      await api.register(commentsApi, { comments: service });
    },
  };
}
