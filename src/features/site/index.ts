import { html } from '../../lib/html.ts';
import type { AppContext, Feature } from '../../platform/feature.ts';
import type { AccountsService } from '../accounts/index.ts';
import type { MediaService } from '../media/index.ts';
import type { PagesService } from '../pages/index.ts';
import type { PostImagesPort, PostsService } from '../posts/index.ts';
import { siteAdminRoutes } from './site.admin.ts';
import { siteApi } from './site.api.ts';
import { feedRoutes } from './site.feeds.ts';
import { siteRoutes } from './site.routes.ts';
import { createSiteSettingsService, type SiteSettingsService } from './site.settings.ts';

export type { SiteSettingsService, SiteView } from './site.settings.ts';

/** The site as a whole: its settings, health checks, the admin index, feeds and the sitemap. */
export function siteFeature(
  ctx: AppContext,
  deps: { posts: PostsService; accounts: AccountsService; media: MediaService; pages: PagesService; images?: PostImagesPort },
): Feature<SiteSettingsService> {
  const service = createSiteSettingsService({ site: ctx.site, accounts: deps.accounts, media: deps.media });
  // The logo and the favicon are uses of their images: the library keeps them.
  deps.media.addReferenceSource(async (ids) => {
    const s = await ctx.site.refresh();
    const uses = new Map<string, { kind: string; title: string; url: string }[]>();
    for (const [which, img] of [
      ['logo', s.logo],
      ['favicon', s.favicon],
    ] as const) {
      if (img && ids.includes(img.id)) uses.set(img.id, [...(uses.get(img.id) ?? []), { kind: 'site', title: `The site's ${which}`, url: '/admin/site' }]);
    }
    return uses;
  });
  return {
    service,
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
      ctx.chrome.adminPage({
        href: '/admin/site',
        name: 'Site settings',
        description: 'Name, logo, language, time zone, menu, who may sign up and comment',
        order: 1,
      });
      await app.register(siteRoutes, { db: ctx.db, siteUrl: ctx.site.url });
      await app.register(siteAdminRoutes, { settings: service, media: deps.media });
      await app.register(feedRoutes, { posts: deps.posts, pages: deps.pages, site: ctx.site, images: deps.images });
    },
    async api(api) {
      await api.register(siteApi, { settings: service });
    },
  };
}
