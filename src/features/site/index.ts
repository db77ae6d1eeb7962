import { html } from '../../lib/html.ts';
import type { AppContext, Feature } from '../../platform/feature.ts';
import type { PostImagesPort, PostsService } from '../posts/index.ts';
import { feedRoutes } from './site.feeds.ts';
import { siteRoutes } from './site.routes.ts';

/** The site as a whole: health checks, the admin index, feeds and the sitemap. */
export function siteFeature(ctx: AppContext, deps: { posts: PostsService; images?: PostImagesPort }): Feature {
  return {
    service: undefined,
    async plugin(app) {
      ctx.chrome.add('nav', { order: 40, render: (request) => (request.user?.role === 'admin' ? html`<a href="/admin">Admin</a>` : '') });
      ctx.chrome.add('head', {
        order: 10,
        render: () => {
          const name = ctx.site.name();
          return html`<link rel="alternate" type="application/rss+xml" title="${name} (RSS)" href="/feed.xml">
<link rel="alternate" type="application/atom+xml" title="${name} (Atom)" href="/atom.xml">`;
        },
      });
      ctx.chrome.add('footer', { order: 10, render: () => html`· <a href="/feed.xml">RSS</a> · <a href="/atom.xml">Atom</a>` });
      await app.register(siteRoutes, { db: ctx.db });
      await app.register(feedRoutes, { posts: deps.posts, siteUrl: ctx.site.url, siteName: ctx.site.name, images: deps.images });
    },
  };
}
