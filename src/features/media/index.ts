import { readFileSync } from 'node:fs';
import multipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { html } from '../../lib/html.ts';
import type { AppContext, Feature } from '../../platform/feature.ts';
import { createSlot, type Slot } from '../../platform/http/slots.ts';
import type { AccountsFeature } from '../accounts/index.ts';
import type { PostsFeature } from '../posts/index.ts';
import { avatarFormHtml, avatarRoutes } from './media.avatars.ts';
import { mediaApi } from './media.api.ts';
import { mediaIdsIn, mediaUrlPrefixes, postImages, responsiveBody } from './media.pictures.ts';
import { limitSharp } from './media.images.ts';
import { canUploadMedia } from './media.policy.ts';
import { mediaRoutes } from './media.routes.ts';
import { createMediaService, type MediaReferenceSource, type MediaService, type MediaUse } from './media.service.ts';
import { createMediaStorage } from './media.storage.ts';

// What other parts of Inkwell may use from media.
export {
  createMediaService,
  type ExportedMedia,
  type Media,
  type MediaService,
  type MediaUse,
  type MediaReferenceSource,
  type MediaVariant,
} from './media.service.ts';
export { createMediaStorage, type MediaStorage } from './media.storage.ts';
export { BODY_SIZES, mediaIdOfUrl, pictureHtml } from './media.pictures.ts';

const uploadJs = readFileSync(new URL('./media-upload.js', import.meta.url), 'utf8');

// The pages where dropping or pasting an image uploads it: the post editor (also shown
// again after a refused save) and the library.
const EDITOR_GET = /^\/(posts\/new|posts\/[^/?]+\/edit|admin\/media)(\?|$)/;
const EDITOR_SAVE = /^\/posts(\/[^/?]+)?(\?|$)/;

/** When unused uploads are removed (cron, site time zone): daily at 03:30. */
export const MEDIA_CLEANUP_SCHEDULE = '30 3 * * *';

/**
 * Image uploads, their variants and the library: /media/:key, /admin/media,
 * /api/v1/media, the variants job and the clean-up schedule. Other features
 * declare where they use images with service.addReferenceSource() (galleries,
 * featured images, avatars), so a used image is neither deleted nor cleaned up;
 * posts that show an image by its URL always count.
 */
export interface MediaFeature extends Feature<MediaService> {
  /** Links at the top of the media library (/admin/media), for pages that work with its images: galleries. */
  libraryLinks: Slot<[FastifyRequest]>;
}

export function mediaFeature(
  ctx: AppContext,
  opts: { references?: MediaReferenceSource[]; posts?: PostsFeature; accounts?: AccountsFeature } = {},
): MediaFeature {
  const { config, queue, scheduler } = ctx;
  limitSharp();
  const storage = createMediaStorage(config.media);
  const service = createMediaService({ db: ctx.db.kysely, storage, queue, clock: ctx.clock, config: config.media, siteUrl: config.siteUrl });
  for (const source of opts.references ?? []) service.addReferenceSource(source);
  const prefixes = mediaUrlPrefixes(config.siteUrl, config.media.publicUrl);
  if (opts.posts) {
    const posts = opts.posts;
    // A featured image is a use: it cannot be deleted while a post shows it.
    service.addReferenceSource(async (ids) => {
      const out = new Map<string, MediaUse[]>();
      for (const [id, list] of await posts.service.featureImageUses(ids)) {
        out.set(
          id,
          list.map((p) => ({ kind: 'post', title: `${p.title} (featured image)`, url: `/posts/${p.slug}` })),
        );
      }
      return out;
    });
    posts.images.provide(postImages(service, config.siteUrl));
  }
  if (opts.accounts) {
    const accounts = opts.accounts.service;
    // An avatar is a use too: the image stays while a profile shows it.
    service.addReferenceSource(async (ids) => {
      const out = new Map<string, MediaUse[]>();
      for (const [id, list] of await accounts.avatarUses(ids)) {
        out.set(
          id,
          list.map((u) => ({ kind: 'avatar of', title: `@${u.username}`, url: `/@${u.username}` })),
        );
      }
      return out;
    });
  }
  const libraryLinks = createSlot<[FastifyRequest]>();
  return {
    service,
    libraryLinks,
    async plugin(app) {
      queue.define<{ id: string }>('media.variants', { handler: (p) => service.makeVariants(p.id) });
      scheduler.register('media-remove-unused', MEDIA_CLEANUP_SCHEDULE, async () => {
        await service.removeUnused();
      });
      // A post's images become responsive <picture>s when the page is shown: one batch for all its images.
      opts.posts?.renderBody.add(async (bodyHtml, _request, post) => {
        const ids = mediaIdsIn(bodyHtml, prefixes);
        if (!ids.length) return bodyHtml;
        // With a featured image above it, no body image is the first in view.
        return responsiveBody(bodyHtml, await service.findMany(ids), prefixes, { eagerFirst: !post.featureImage, siteUrl: config.siteUrl });
      }, 10);
      ctx.chrome.add('nav', {
        order: 25,
        render: (request) => (request.user && request.user.role !== 'reader' ? html`<a href="/admin/media">Media</a>` : ''),
      });
      // Drag-and-drop and paste-to-upload over the plain forms (a file, so the CSP needs no inline script).
      ctx.chrome.add('head', {
        order: 20,
        render: (request) =>
          canUploadMedia(request.user) && (request.method === 'GET' ? EDITOR_GET : EDITOR_SAVE).test(request.url)
            ? html`<script src="/assets/media-upload.js" data-site="${config.siteUrl}" defer></script>`
            : '',
      });
      app.get('/assets/media-upload.js', async (_request, reply) =>
        reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(uploadJs),
      );
      ctx.chrome.adminPage({ href: '/admin/media', name: 'Media', description: 'Uploaded images: alt text, where each is used, delete', order: 15 });
      // Limits are given per request in receiveUpload; multipart is only parsed there.
      await app.register(multipart);
      if (opts.accounts) {
        const accounts = opts.accounts;
        accounts.settingsSection.add((request) => avatarFormHtml(request, config.media.maxBytes), 10);
        await app.register(avatarRoutes, { media: service, accounts: accounts.service, maxBytes: config.media.maxBytes });
      }
      await app.register(mediaRoutes, {
        media: service,
        storage,
        maxBytes: config.media.maxBytes,
        siteUrl: config.siteUrl,
        links: (request) => libraryLinks.render(request),
      });
    },
    async api(api) {
      await api.register(multipart);
      await api.register(mediaApi, { media: service, maxBytes: config.media.maxBytes });
    },
  };
}
