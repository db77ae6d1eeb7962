import { html } from '../../lib/html.ts';
import type { AppContext, Feature } from '../../platform/feature.ts';
import type { MediaService } from '../media/index.ts';
import { pagesApi } from './pages.api.ts';
import { pagesRoutes } from './pages.routes.ts';
import { createPagesService, type PagesService } from './pages.service.ts';

export { canEditPages, createPagesService, type ImportedPage, type Page, type PagesService } from './pages.service.ts';

/** Static pages (About, Contact…) at /pages/:slug, their editor under /admin/pages, and /api/v1/pages. */
export function pagesFeature(ctx: AppContext, deps: { media: MediaService }): Feature<PagesService> {
  const service = createPagesService({ db: ctx.db.kysely, clock: ctx.clock, media: deps.media, siteUrl: ctx.site.url });
  // A page's sharing image is a use of it: the library keeps it.
  deps.media.addReferenceSource(async (ids) => {
    const uses = new Map<string, { kind: string; title: string; url: string }[]>();
    if (!ids.length) return uses;
    const rows = await ctx.db.kysely.selectFrom('pages').select(['id', 'title', 'image_id']).where('image_id', 'in', ids).execute();
    for (const r of rows) uses.set(r.image_id!, [...(uses.get(r.image_id!) ?? []), { kind: 'page', title: r.title, url: `/admin/pages/${r.id}/edit` }]);
    return uses;
  });
  return {
    service,
    async plugin(app) {
      ctx.chrome.adminPage({ href: '/admin/pages', name: 'Pages', description: 'Static pages such as About and Contact', order: 12 });
      ctx.chrome.add('nav', {
        order: 22,
        render: (request) => (request.user && (request.user.role === 'admin' || request.user.role === 'editor') ? html`<a href="/admin/pages">Pages</a>` : ''),
      });
      await app.register(pagesRoutes, { pages: service, media: deps.media });
    },
    async api(api) {
      await api.register(pagesApi, { pages: service });
    },
  };
}
