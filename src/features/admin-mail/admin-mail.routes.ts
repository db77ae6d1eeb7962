import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import { requireAdmin } from '../../platform/http/auth.ts';
import { sendPage } from '../../platform/http/layout.ts';
import { html } from '../../lib/html.ts';
import { dateHtml } from '../../lib/dates.ts';

const PAGE = 50;

/** /admin/mail: every message Inkwell sent or keeps, and how delivery went. */
export async function adminMailRoutes(app: FastifyInstance, opts: { db: Kysely<Database> }) {
  const { db } = opts;

  app.get('/admin/mail', async (request, reply) => {
    requireAdmin(request, 'Only admins can read the mail outbox');
    const raw = (request.query as Record<string, unknown>).before;
    let q = db
      .selectFrom('mail_outbox')
      .select(['id', 'to_address', 'subject', 'status', 'attempts', 'created_at', 'last_error'])
      .orderBy('id', 'desc')
      .limit(PAGE + 1);
    if (typeof raw === 'string' && /^\d{1,9}$/.test(raw)) q = q.where('id', '<', Number(raw));
    const rows = await q.execute();
    const page = rows.slice(0, PAGE);
    const body = html`<h1>Mail</h1>
<p>Every email Inkwell sends is recorded here. Without <code>SMTP_URL</code>, messages are kept here instead of sent.</p>
!${
      page.length
        ? html`<table class="dash"><thead><tr><th scope="col">To</th><th scope="col">Subject</th><th scope="col">Status</th><th scope="col" class="opt">Created</th></tr></thead><tbody>
!${page.map(
            (m) => html`<tr><td>${m.to_address}</td><td><a href="/admin/mail/${m.id}">${m.subject}</a></td>
<td>${m.status}${m.attempts > 1 ? ` (${m.attempts} attempts)` : ''}!${m.last_error ? html`<br><small>${m.last_error}</small>` : ''}</td><td class="opt">!${dateHtml(m.created_at)}</td></tr>`,
          )}
</tbody></table>`
        : html`<p>No mail yet.</p>`
    }
!${rows.length > PAGE ? html`<nav class="pager" aria-label="Pagination"><span></span><a href="/admin/mail?before=${page.at(-1)!.id}">Older →</a></nav>` : ''}`;
    return sendPage(request, reply, { title: 'Mail', body });
  });

  app.get<{ Params: { id: string } }>('/admin/mail/:id', async (request, reply) => {
    requireAdmin(request, 'Only admins can read the mail outbox');
    const id = /^\d{1,9}$/.test(request.params.id) ? Number(request.params.id) : NaN;
    const m = Number.isNaN(id) ? undefined : await db.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirst();
    if (!m) throw new AppError('not_found', 'No such message');
    // The message's HTML is shown in a sandboxed frame: it cannot run script or touch this page.
    const body = html`<h1>${m.subject}</h1>
<table class="dash"><tbody>
<tr><th scope="row">To</th><td>${m.to_name ? `${m.to_name} <${m.to_address}>` : m.to_address}</td></tr>
<tr><th scope="row">Status</th><td>${m.status}, ${m.attempts} attempt(s)!${m.sent_at ? html`, sent !${dateHtml(m.sent_at)}` : ''}</td></tr>
!${m.last_error ? html`<tr><th scope="row">Last error</th><td>${m.last_error}</td></tr>` : ''}
<tr><th scope="row">Created</th><td>!${dateHtml(m.created_at)}</td></tr>
</tbody></table>
<h2>HTML</h2>
<iframe sandbox title="The message as HTML" srcdoc="${m.html}" style="width:100%;height:28rem;border:1px solid #ddd;border-radius:.35rem"></iframe>
<h2>Plain text</h2>
<pre style="white-space:pre-wrap">${m.text}</pre>
<p><a href="/admin/mail">← All mail</a></p>`;
    return sendPage(request, reply, { title: m.subject, body });
  });
}
