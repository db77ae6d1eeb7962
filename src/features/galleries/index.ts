import type { AppContext, Feature } from '../../platform/feature.ts';
import type { MediaFeature } from '../media/index.ts';
import type { PostsFeature } from '../posts/index.ts';
import { html } from '../../lib/html.ts';
import { galleriesAdmin } from './galleries.admin.ts';
import { galleriesApi } from './galleries.api.ts';
import { galleriesRoutes } from './galleries.routes.ts';
import { createGalleriesService, type GalleriesService } from './galleries.service.ts';
import { galleryGridHtml } from './galleries.views.ts';

export { createGalleriesService, type ExportedGallery, type Gallery, type GalleriesService, type ImportedGallery } from './galleries.service.ts';

// A line of its own, `[gallery:slug]`, which Markdown leaves as a paragraph of text.
// Slugs may be in any script (lib/slugify.ts): letters, marks, digits and single hyphens.
const EMBED = /<p>\[gallery:([\p{L}\p{M}\p{N}]+(?:-[\p{L}\p{M}\p{N}]+)*)\]<\/p>/gu;

/**
 * Galleries: ordered sets of uploaded images with captions. Their pages
 * (/galleries/:slug), their API (/api/v1/galleries), the `[gallery:slug]` embed in
 * posts (through posts' renderBody hook), and their images declared as uses to media.
 */
export function galleriesFeature(ctx: AppContext, deps: { media: MediaFeature; posts: PostsFeature }): Feature<GalleriesService> {
  const { posts } = deps;
  const media = deps.media.service;
  const service = createGalleriesService({ db: ctx.db.kysely, clock: ctx.clock, media });
  media.addReferenceSource(async (ids) => {
    const out = new Map<string, { kind: string; title: string; url: string }[]>();
    for (const [id, list] of await service.uses(ids))
      out.set(
        id,
        list.map((g) => ({ kind: 'gallery', title: g.title, url: `/galleries/${g.slug}` })),
      );
    return out;
  });
  return {
    service,
    async plugin(app) {
      // After media (order 10) made the body's own images responsive: the grid's pictures are made here.
      posts.renderBody.add(async (bodyHtml) => {
        const slugs = [...new Set([...bodyHtml.matchAll(EMBED)].map((m) => m[1]))];
        if (!slugs.length) return bodyHtml;
        const found = await service.findMany(slugs);
        const images = await media.findMany([...found.values()].flatMap((g) => g.items.map((i) => i.mediaId)));
        return bodyHtml.replace(EMBED, (whole, slug: string) => {
          const g = found.get(slug);
          // An unknown name stays as the text the writer typed, so the mistake shows.
          return g ? galleryGridHtml(g, images, ctx.site.url, { eagerFirst: false }) : whole;
        });
      }, 20);
      // Reached from the media library (the header has no room for it on a laptop) and /admin.
      deps.media.libraryLinks.add(() => html`<a href="/admin/galleries">Galleries</a>: ordered sets of these images`, 10);
      ctx.chrome.adminPage({
        href: '/admin/galleries',
        name: 'Galleries',
        description: 'Ordered sets of images with captions: make, change, delete',
        order: 16,
      });
      await app.register(galleriesRoutes, { galleries: service, media, siteUrl: ctx.site.url });
      await app.register(galleriesAdmin, { galleries: service, media, siteUrl: ctx.site.url });
    },
    async api(api) {
      await api.register(galleriesApi, { galleries: service, siteUrl: ctx.site.url });
    },
  };
}
