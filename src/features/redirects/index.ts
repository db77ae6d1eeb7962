import type { AppContext, Feature } from '../../platform/feature.ts';
import { redirectsApi } from './redirects.api.ts';
import { redirectsRoutes } from './redirects.routes.ts';
import { createRedirectsService, type RedirectsService } from './redirects.service.ts';

// What other features may use from redirects.
export { createRedirectsService, normalizePath, type Redirect, type RedirectsService } from './redirects.service.ts';

// WordPress's plain permalinks (/?p=12, /?page_id=3, /?cat=4) land on the home
// page's route, so they are looked up before routing; nothing else is.
const WORDPRESS_QUERY = /^\/(index\.php)?\?(p|page_id|cat|tag|author)=/;

/** Redirects: old addresses answered when nothing else lives there; a renamed post leaves one behind. */
export function redirectsFeature(ctx: AppContext): Feature<RedirectsService> {
  const service = createRedirectsService({ db: ctx.db.kysely, clock: ctx.clock });
  return {
    service,
    async plugin(app) {
      ctx.notFound.add((request) => service.lookup(request.url), { early: (url) => WORDPRESS_QUERY.test(url) });
      ctx.events.on('post.slug_changed', async (event, trx) => {
        await service.point(trx, `/posts/${event.payload.from}`, `/posts/${event.payload.to}`, 'slug');
      });
      ctx.chrome.adminPage({ href: '/admin/redirects', name: 'Redirects', description: 'Old addresses that lead to new ones', order: 60 });
      await app.register(redirectsRoutes, { redirects: service });
    },
    async api(api) {
      await api.register(redirectsApi, { redirects: service });
    },
  };
}
