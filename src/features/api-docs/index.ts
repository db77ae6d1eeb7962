import { html } from '../../lib/html.ts';
import type { AppContext, Feature } from '../../platform/feature.ts';
import { apiDocsRoutes } from './api-docs.routes.ts';

/** The API reference at /api/docs, rendered from the OpenAPI document. */
export function apiDocsFeature(ctx: AppContext): Feature {
  return {
    service: undefined,
    async plugin(app) {
      ctx.chrome.add('footer', { order: 90, render: () => html`· <a href="/api/docs">API</a>` });
      await app.register(apiDocsRoutes, { site: ctx.site });
    },
  };
}
