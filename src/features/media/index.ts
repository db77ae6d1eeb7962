import type { FastifyInstance } from 'fastify';
import cors from '@fastify/cors';
import multipart from '@fastify/multipart';
import type { Kysely } from 'kysely';
import type { Config } from '../../config.ts';
import type { Database } from '../../platform/db/schema.ts';
import type { Queue } from '../../platform/jobs/queue.ts';
import type { Scheduler } from '../../platform/jobs/scheduler.ts';
import { systemClock, type Clock } from '../../lib/clock.ts';
import { mediaApi } from './media.api.ts';
import { limitSharp } from './media.images.ts';
import { mediaRoutes } from './media.routes.ts';
import { createMediaService, type MediaReferenceSource } from './media.service.ts';
import { createMediaStorage } from './media.storage.ts';

// What other parts of Inkwell may use from media.
export { createMediaService, type Media, type MediaService, type MediaUse, type MediaReferenceSource, type MediaVariant } from './media.service.ts';
export { createMediaStorage, type MediaStorage } from './media.storage.ts';

/** When unused uploads are removed (cron, site time zone): daily at 03:30. */
export const MEDIA_CLEANUP_SCHEDULE = '30 3 * * *';

export interface MediaPluginOptions {
  db: Kysely<Database>;
  config: Config;
  queue: Queue;
  scheduler: Scheduler;
  clock?: Clock;
  /**
   * Where other features use images (galleries, featured images, avatars), so a used
   * image is neither deleted nor cleaned up. Posts that show an image by its URL
   * are always counted (see createMediaService).
   */
  references?: MediaReferenceSource[];
}

/**
 * Image uploads, their variants and the library: /media/:key, /admin/media,
 * /api/v1/media, the variants job and the clean-up schedule.
 */
export async function mediaFeature(app: FastifyInstance, opts: MediaPluginOptions) {
  const { config, queue, scheduler } = opts;
  limitSharp();
  const storage = createMediaStorage(config.media);
  const media = createMediaService({ db: opts.db, storage, queue, clock: opts.clock ?? systemClock, config: config.media, siteUrl: config.siteUrl });
  for (const source of opts.references ?? []) media.addReferenceSource(source);

  queue.define<{ id: string }>('media.variants', { handler: (p) => media.makeVariants(p.id) });
  scheduler.register('media-remove-unused', MEDIA_CLEANUP_SCHEDULE, async () => { await media.removeUnused(); });

  // Limits are given per request in receiveUpload; multipart is only parsed there.
  await app.register(multipart);
  await app.register(mediaRoutes, { media, storage, maxBytes: config.media.maxBytes, siteUrl: config.siteUrl });
  await app.register(async (api) => {
    // The same CORS as the rest of /api (app.ts registers it in the /api scope,
    // which this feature's routes are not inside).
    if (config.corsOrigins.length) {
      await api.register(cors, {
        origin: config.corsOrigins.includes('*') ? '*' : config.corsOrigins,
        methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
        allowedHeaders: ['Authorization', 'Content-Type', 'X-CSRF-Token', 'X-Request-Id'],
        exposedHeaders: ['Location', 'Retry-After', 'X-Request-Id'],
        maxAge: 600,
      });
    }
    await api.register(mediaApi, { media, maxBytes: config.media.maxBytes });
  }, { prefix: '/api/v1' });
}
