import type { AppContext, Feature } from '../../platform/feature.ts';
import type { AccountsService } from '../accounts/index.ts';
import type { CommentsService } from '../comments/index.ts';
import type { GalleriesService } from '../galleries/index.ts';
import type { MediaService } from '../media/index.ts';
import type { PagesService } from '../pages/index.ts';
import type { PostsService } from '../posts/index.ts';
import type { RedirectsService } from '../redirects/index.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMovingService, type MovingService } from './moving.service.ts';
import { createImportRuns } from './moving.jobs.ts';
import { movingRoutes } from './moving.routes.ts';
import { createExporter, type Exporter } from './moving.export.ts';
import { exportApi, exportRoutes } from './moving.export-routes.ts';
import { createBackups } from './moving.backup.ts';
import { backupRoutes } from './moving.backup-routes.ts';

// Uploads arrive here, then go to the media storage for their job (which any instance may run).
const UPLOAD_DIR = join(tmpdir(), 'inkwell-imports');
const MAX_UPLOAD_BYTES = 512 * 1024 * 1024;

// What other features (and the CLI) may use from moving.
export { createMovingService, reportText, type ImportReport, type MovingService } from './moving.service.ts';
export { ImportRefused } from './moving.errors.ts';
export { standaloneMedia, standaloneMovingService, standaloneServices, type StandaloneDeps } from './moving.standalone.ts';
export { createExporter, EXPORT_VERSION, type Exporter } from './moving.export.ts';
export { BackupError, backupSqlite, createBackups, postgresAdvice, restoreSqlite, sqliteFile } from './moving.backup.ts';

/** Moving in and out: imports from WordPress and Ghost (images into the media library), export, backups. */
export function movingFeature(
  ctx: AppContext,
  deps: {
    posts: PostsService;
    pages: PagesService;
    galleries: GalleriesService;
    comments: CommentsService;
    accounts: AccountsService;
    redirects: RedirectsService;
    media: MediaService;
  },
): Feature<MovingService & { exporter: Exporter }> {
  const { media, galleries: _galleries, ...rest } = deps;
  const moving = createMovingService({
    db: ctx.db.kysely,
    clock: ctx.clock,
    ...rest,
    images: { http: ctx.http, media, maxBytes: ctx.config.media.maxBytes },
  });
  const exporter = createExporter({ db: ctx.db.kysely, clock: ctx.clock, settings: ctx.settings, site: ctx.site, ...deps });
  const service = { ...moving, exporter };
  return {
    service,
    async plugin(app) {
      const runs = createImportRuns({ db: ctx.db.kysely, clock: ctx.clock, queue: ctx.queue, moving, files: media.privateFiles });
      ctx.chrome.adminPage({ href: '/admin/import', name: 'Import', description: 'Bring a blog over from WordPress or Ghost', order: 90 });
      ctx.chrome.adminPage({ href: '/admin/export', name: 'Export', description: 'Download the whole blog as one archive', order: 91 });
      await app.register(movingRoutes, { runs, files: media.privateFiles, uploadDir: UPLOAD_DIR, maxBytes: MAX_UPLOAD_BYTES });
      await app.register(exportRoutes, { exporter, siteName: ctx.site.name });
      const backups = createBackups({
        settings: ctx.settings,
        clock: ctx.clock,
        databaseUrl: ctx.config.databaseUrl,
        dir: ctx.config.backupDir,
        keep: ctx.config.backupKeep,
        db: ctx.db.kysely,
      });
      if (backups.enabled())
        ctx.scheduler.register('nightly-backup', '30 3 * * *', async () => {
          await backups.run();
        });
      ctx.chrome.adminPage({ href: '/admin/backups', name: 'Backups', description: 'The nightly backup and its last result', order: 92 });
      await app.register(backupRoutes, { backups });
    },
    async api(api) {
      await api.register(exportApi, { exporter, siteName: ctx.site.name });
    },
  };
}
