import type { FastifyInstance } from 'fastify';
import { AppError } from '../../platform/errors.ts';
import { sendPage } from '../../platform/http/layout.ts';
import type { MediaService } from '../media/index.ts';
import type { GalleriesService } from './galleries.service.ts';
import { galleryImageHtml, galleryPageHtml } from './galleries.views.ts';

/** A gallery's page (/galleries/:slug) and each image's large view (/galleries/:slug/:n, from 1). */
export async function galleriesRoutes(app: FastifyInstance, opts: { galleries: GalleriesService; media: MediaService; siteUrl: string }) {
  const { galleries, media, siteUrl } = opts;
  // Anonymous answers are kept until the database changes (platform/http/response-cache.ts).
  const cached = { config: { cacheAnonymous: true } };

  app.get<{ Params: { slug: string } }>('/galleries/:slug', cached, async (request, reply) => {
    const g = await galleries.get(request.params.slug);
    const found = await media.findMany(g.items.map((i) => i.mediaId));
    return sendPage(request, reply, { title: g.title, body: galleryPageHtml(g, found, siteUrl) });
  });

  app.get<{ Params: { slug: string; n: string } }>('/galleries/:slug/:n', cached, async (request, reply) => {
    const g = await galleries.get(request.params.slug);
    const n = /^\d{1,4}$/.test(request.params.n) ? Number(request.params.n) : 0;
    const item = g.items[n - 1];
    const m = item ? (await media.findMany([item.mediaId])).get(item.mediaId) : undefined;
    if (!m) throw new AppError('not_found', `This gallery has no image ${request.params.n}`);
    return sendPage(request, reply, { title: `${g.title} (${n} of ${g.items.length})`, body: galleryImageHtml(g, n - 1, m, siteUrl) });
  });
}
