import { randomBytes } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Kysely } from 'kysely';
import type { Database, ImportRunState } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import type { Queue } from '../../platform/jobs/queue.ts';
import type { Clock } from '../../lib/clock.ts';
import { ImportRefused } from './moving.errors.ts';
import type { MediaService } from '../media/index.ts';
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
export function createImportRuns(deps: { db: Kysely<Database>; clock: Clock; queue: Queue; moving: MovingService; files: MediaService['privateFiles'] }) {
  const { db, clock, queue, moving, files } = deps;
  const now = () => clock.now().toISOString();

  const fail = (runId: number, error: string) =>
    db.updateTable('import_runs').set({ state: 'failed', error, finished_at: now() }).where('id', '=', runId).execute();

  // `key`: the upload in the media storage (any instance may run the job); `path`: a file
  // on this machine (jobs queued before uploads went to the storage).
  queue.define<{ runId: number; key?: string; path?: string; siteUrl?: string }>('moving.import', {
    // A refused file fails for good at once; a crash mid-way is retried (the import is idempotent).
    retryDelaysMs: [30_000],
    async handler({ runId, key, path, siteUrl }, job) {
      const run = await db.selectFrom('import_runs').select(['state', 'format']).where('id', '=', runId).executeTakeFirst();
      if (!run || run.state === 'succeeded' || run.state === 'failed') {
        if (key) await files.drop(key);
        return;
      }
      // The upload comes from the shared storage to this machine's temporary directory for the import's two passes.
      const local = key ? join(tmpdir(), `inkwell-import-${runId}-${randomBytes(6).toString('hex')}`) : path!;
      const done = async () => {
        if (key) await files.drop(key);
        else rmSync(local, { force: true });
      };
      let last = 0;
      try {
        if (key) {
          const stored = await files.get(key);
          if (!stored) {
            await fail(runId, 'The uploaded file is gone from the media storage. Upload it again, or import it with the command line. Nothing was imported.');
            return;
          }
          await pipeline(stored.stream, createWriteStream(local, { flags: 'wx' }));
        }
        await db.updateTable('import_runs').set({ state: 'running' }).where('id', '=', runId).execute();
        const importer = run.format === 'ghost' ? moving.importGhost : moving.importWordPress;
        const report = await importer(local, {
          siteUrl,
          onProgress: (n) => {
            // A row write per 50 items: progress without slowing the import.
            if (n - last >= 50) {
              last = n;
              void db.updateTable('import_runs').set({ progress: n }).where('id', '=', runId).execute();
            }
          },
        });
        const c = report.counts;
        const total = c.posts.imported + c.posts.updated + c.posts.skipped + c.pages.imported + c.pages.updated + c.pages.skipped;
        await db
          .updateTable('import_runs')
          .set({ state: 'succeeded', progress: total, report: JSON.stringify(report), finished_at: now() })
          .where('id', '=', runId)
          .execute();
        await done();
      } catch (e) {
        if (!key && (e as NodeJS.ErrnoException).code === 'ENOENT') {
          await fail(runId, 'The uploaded file is gone from this server. Upload it again, or import it with the command line. Nothing was imported.');
          return;
        }
        if (e instanceof ImportRefused) {
          await fail(runId, `The file was refused: ${e.message}. Nothing was imported.`);
          await done();
          return;
        }
        // Retried while attempts remain (the upload stays for the next one); the last one gives up and cleans up.
        if (job.attempts >= job.max_attempts) {
          await fail(runId, `The import stopped: ${(e as Error).message}. What was written is whole; importing the file again goes on from there.`);
          await done();
        }
        throw e;
      } finally {
        if (key) rmSync(local, { force: true });
      }
    },
  });

  return {
    /** Records the run and enqueues its job (which starts once this commits). */
    async start(input: { format: string; fileName: string; key: string; userId: number; siteUrl?: string }): Promise<number> {
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
        await queue.enqueue(trx, 'moving.import', { runId: row.id, key: input.key, ...(input.siteUrl ? { siteUrl: input.siteUrl } : {}) });
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
