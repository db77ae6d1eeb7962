import type { FastifyInstance } from 'fastify';
import { html } from '../../lib/html.ts';
import { dateHtml } from '../../lib/dates.ts';
import { requireAdmin } from '../../platform/http/auth.ts';
import { sendPage } from '../../platform/http/layout.ts';
import type { Backups } from './moving.backup.ts';

/** /admin/backups: whether the nightly backup is on, its last result, the copies kept. */
export async function backupRoutes(app: FastifyInstance, opts: { backups: Backups }) {
  const { backups } = opts;
  app.get('/admin/backups', async (request, reply) => {
    requireAdmin(request, 'Only admins see backups');
    const last = await backups.last();
    const kept = backups.list();
    const body = html`<h1>Backups</h1>
!${
      backups.enabled()
        ? html`<p>Every night at 03:30 (site time) the SQLite database is copied to <code>${backups.dir}</code>; the newest ${backups.keep} copies are kept (<code>BACKUP_KEEP</code>).</p>`
        : html`<p>Nightly backups are off. Set <code>BACKUP_DIR</code> (and <code>BACKUP_KEEP</code>, default 7) to turn them on, or run <code>npm run inkwell -- backup FILE</code>. On PostgreSQL use <code>pg_dump</code> (see the README).</p>`
    }
<h2>Last backup</h2>
!${last ? html`<p id="last-backup" class="${last.ok ? 'ok' : 'failed'}">!${dateHtml(last.at)}: <strong>${last.ok ? 'succeeded' : 'failed'}</strong>. ${last.message}${last.bytes ? ` (${(last.bytes / 1024 / 1024).toFixed(1)} MB)` : ''}</p>` : html`<p id="last-backup">None yet.</p>`}
!${kept.length ? html`<h2>Kept</h2><ul>!${kept.map((k) => html`<li><code>${k.name}</code> (${(k.bytes / 1024 / 1024).toFixed(1)} MB)</li>`)}</ul>` : ''}`;
    return sendPage(request, reply, { title: 'Backups', body });
  });
}
