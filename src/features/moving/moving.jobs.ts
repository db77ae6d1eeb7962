import { rmSync } from 'node:fs';
import type { Kysely } from 'kysely';
import type { Database, ImportRunState } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import type { Queue } from '../../platform/jobs/queue.ts';
import type { Clock } from '../../lib/clock.ts';
import { ImportRefused } from './moving.errors.ts';
import type { MovingService } from './moving.service.ts';

/** One import started from the admin page. */
export interface ImportRun {
  id: number;
  format: string;
  fileName: string;
  state: ImportRunState;
  progress: number;
  report: string | null;
  error: string | null;
  createdAt: string;
}

/** Imports started from /admin/import: a run row, a job that does the work, its progress and report. */
export function createImportRuns(deps: { db: Kysely<Database>; clock: Clock; queue: Queue; moving: MovingService }) {
  const { db, clock, queue, moving } = deps;
  const now = () => clock.now().toISOString();

  queue.define<{ runId: number; path: string; siteUrl?: string }>('moving.import', {
    // A refused file fails for good at once; a crash mid-way is retried (the import is idempotent).
    retryDelaysMs: [30_000],
    async handler({ runId, path, siteUrl }) {
      const run = await db.selectFrom('import_runs').select(['state', 'format']).where('id', '=', runId).executeTakeFirst();
      if (!run || run.state === 'succeeded' || run.state === 'failed') return;
      await db.updateTable('import_runs').set({ state: 'running' }).where('id', '=', runId).execute();
      let last = 0;
      try {
        const importer = run.format === 'ghost' ? moving.importGhost : moving.importWordPress;
        const report = await importer(path, {
          siteUrl,
          onProgress: (done) => {
            // A row write per 50 items: progress without slowing the import.
            if (done - last >= 50) {
              last = done;
              void db.updateTable('import_runs').set({ progress: done }).where('id', '=', runId).execute();
            }
          },
        });
        const total =
          report.counts.posts.imported +
          report.counts.posts.updated +
          report.counts.posts.skipped +
          report.counts.pages.imported +
          report.counts.pages.updated +
          report.counts.pages.skipped;
        await db
          .updateTable('import_runs')
          .set({ state: 'succeeded', progress: total, report: JSON.stringify(report), finished_at: now() })
          .where('id', '=', runId)
          .execute();
        rmSync(path, { force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          // Another instance took the upload, or the temporary directory was cleaned: say so rather than retry for ever.
          await db
            .updateTable('import_runs')
            .set({
              state: 'failed',
              error:
                'The uploaded file is gone from this server (it is kept in the temporary directory of the instance that received it). Upload it again, or import it with the command line.',
              finished_at: now(),
            })
            .where('id', '=', runId)
            .execute();
          return;
        }
        if (!(e instanceof ImportRefused)) throw e;
        await db
          .updateTable('import_runs')
          .set({ state: 'failed', error: `The file was refused: ${e.message}.`, finished_at: now() })
          .where('id', '=', runId)
          .execute();
        rmSync(path, { force: true });
      }
    },
  });

  return {
    /** Records the run and enqueues its job (which starts once this commits). */
    async start(input: { format: string; fileName: string; path: string; userId: number; siteUrl?: string }): Promise<number> {
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('import_runs')
          .values({
            format: input.format,
            file_name: input.fileName.slice(0, 200),
            state: 'queued',
            report: null,
            error: null,
            created_by: input.userId,
            created_at: now(),
            finished_at: null,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await queue.enqueue(trx, 'moving.import', { runId: row.id, path: input.path, ...(input.siteUrl ? { siteUrl: input.siteUrl } : {}) });
        return row.id;
      });
    },

    async get(id: number): Promise<ImportRun> {
      const r = await db.selectFrom('import_runs').selectAll().where('id', '=', id).executeTakeFirst();
      if (!r) throw new AppError('not_found', 'No such import');
      return {
        id: r.id,
        format: r.format,
        fileName: r.file_name,
        state: r.state,
        progress: r.progress,
        report: r.report,
        error: r.error,
        createdAt: r.created_at,
      };
    },

    async recent(limit: number): Promise<ImportRun[]> {
      const rows = await db.selectFrom('import_runs').select('id').orderBy('id', 'desc').limit(limit).execute();
      return Promise.all(rows.map((r) => this.get(r.id)));
    },
  };
}

export type ImportRuns = ReturnType<typeof createImportRuns>;
