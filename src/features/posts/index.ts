import { readFileSync } from 'node:fs';
import type { FastifyRequest } from 'fastify';
import { html } from '../../lib/html.ts';
import { registerDaily } from '../../platform/daily.ts';
import type { AppContext, Feature } from '../../platform/feature.ts';
import { createHtmlFilter, createSlot, type HtmlFilter, type Slot } from '../../platform/http/slots.ts';
import { postsApi } from './posts.api.ts';
import type { Post } from './posts.queries.ts';
import { postsRoutes } from './posts.routes.ts';
import { searchRoutes } from './search/search.routes.ts';
import { createPostsService, type PostsService } from './posts.service.ts';
import { createPostImagesPort, type PostImagesPort } from './posts.images.ts';

// What other features may use from posts.
export { createPostsService, type ImportedPost, type PostInput, type PostsService, type SearchResult } from './posts.service.ts';
export type { Post } from './posts.queries.ts';
export { adoptAuthorlessPosts, releaseAuthorsPosts } from './posts.queries.ts';
export { postPresenter } from './posts.api.ts';
export { IdOrSlugParams, PostCreateSchema, PostListSchema, PostPatchSchema, PostSchema } from './posts.schema.ts';
export { postListHtml } from './views/post-list.ts';
export { canEditPost } from './posts.policy.ts';
export { featureImageIds, type PostImages, type PostImagesPort } from './posts.images.ts';
export { postEventData, type PostPublished, type PostUpdated, type PostDeleted, type PostUnpublished, type PostSlugChanged } from './posts.events.ts';

const editorJs = readFileSync(new URL('./post-editor.js', import.meta.url), 'utf8');

/** The posts feature, and the places in a post page that other features fill. */
export interface PostsFeature extends Feature<PostsService> {
  /** Under a published post's body (favourite button, comment thread); fragments get the reader and the post. */
  belowPost: Slot<[FastifyRequest, Post]>;
  /**
   * The post page's body HTML (already sanitized) passes through these transforms
   * before it is shown: media turns its images into responsive <picture>s,
   * galleries expand their embeds. The stored HTML stays as it is.
   */
  renderBody: HtmlFilter<[FastifyRequest, Post]>;
  /** Where posts gets pictures of images from (featured images, thumbnails, feeds, the editor's list); media provides it. */
  images: PostImagesPort;
}

/** Posts: pages and forms, search, the JSON API, the scheduled-publishing schedule, and the writer's header links. */
export function postsFeature(ctx: AppContext): PostsFeature {
  const images = createPostImagesPort();
  const service = createPostsService({ db: ctx.db.kysely, clock: ctx.clock, events: ctx.events, images });
  const belowPost = createSlot<[FastifyRequest, Post]>();
  const renderBody = createHtmlFilter<[FastifyRequest, Post]>();
  return {
    service,
    belowPost,
    renderBody,
    images,
    async plugin(app) {
      ctx.scheduler.register('publish-scheduled-posts', '* * * * *', async () => {
        await service.publishDue();
      });
      // Posts trashed 30 days ago go for good, with their comments: at night, the site's night.
      registerDaily(ctx, 'purge-trashed-posts', '03:17', async () => {
        await service.purgeTrash();
      });
      ctx.chrome.add('nav', {
        order: 0,
        render: () =>
          html`<form method="get" action="/search" role="search" class="site-search" aria-label="Search this site"><input type="search" name="q" aria-label="Search posts" placeholder="Search" maxlength="200"></form>`,
      });
      ctx.chrome.add('nav', {
        order: 20,
        render: (request) => (request.user && request.user.role !== 'reader' ? html`<a href="/posts/new">Write</a> <a href="/admin/posts">Dashboard</a>` : ''),
      });
      ctx.chrome.adminPage({ href: '/admin/posts', name: 'Posts', description: "Everyone's drafts and published posts", order: 10 });
      await app.register(postsRoutes, {
        posts: service,
        below: (request, post) => belowPost.render(request, post),
        timeZone: () => ctx.site.settings().timeZone,
        siteUrl: ctx.site.url,
        renderBody: (request, post) => renderBody.apply(post.bodyHtml, request, post),
        images,
      });
      await app.register(searchRoutes, { posts: service });
      // "Insert" buttons for the editor's recent uploads (the form works without it).
      app.get('/assets/post-editor.js', async (_request, reply) =>
        reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(editorJs),
      );
    },
    async api(api) {
      await api.register(postsApi, { posts: service, siteUrl: ctx.site.url });
    },
  };
}
