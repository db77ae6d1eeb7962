import type { FastifyInstance } from 'fastify';
import { AppError } from '../../platform/errors.ts';
import { requireAdmin } from '../../platform/http/auth.ts';
import { sendPage } from '../../platform/http/layout.ts';
import type { Mailer } from '../../platform/mail/index.ts';
import { html } from '../../lib/html.ts';
import { dateHtml } from '../../lib/dates.ts';

const PAGE = 50;

/** /admin/mail: every message Inkwell sent or keeps, and how delivery went. */
export async function adminMailRoutes(app: FastifyInstance, opts: { mailer: Mailer }) {
  const { mailer } = opts;

  app.get('/admin/mail', async (request, reply) => {
    requireAdmin(request, 'Only admins can read the mail outbox');
    const raw = (request.query as Record<string, unknown>).before;
    const before = typeof raw === 'string' && /^\d{1,9}$/.test(raw) ? Number(raw) : undefined;
    const rows = await mailer.list({ before, limit: PAGE + 1 });
    const page = rows.slice(0, PAGE);
    const body = html`<h1>Mail</h1>
<p>Every email Inkwell sends is recorded here. Without <code>SMTP_URL</code>, messages are kept here instead of sent.</p>
!${
      page.length
        ? html`<table class="dash"><thead><tr><th scope="col">To</th><th scope="col">Subject</th><th scope="col">Status</th><th scope="col" class="opt">Created</th></tr></thead><tbody>
!${page.map(
            (m) => html`<tr><td>${m.to}</td><td><a href="/admin/mail/${m.id}">${m.subject}</a></td>
<td>${m.status}${m.attempts > 1 ? ` (${m.attempts} attempts)` : ''}!${m.lastError ? html`<br><small>${m.lastError}</small>` : ''}</td><td class="opt">!${dateHtml(m.createdAt)}</td></tr>`,
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
    const m = Number.isNaN(id) ? undefined : await mailer.get(id);
    if (!m) throw new AppError('not_found', 'No such message');
    // The message's HTML is shown in a sandboxed frame: it cannot run script or touch this page.
    const body = html`<h1>${m.subject}</h1>
<table class="dash"><tbody>
<tr><th scope="row">To</th><td>${m.toName ? `${m.toName} <${m.to}>` : m.to}</td></tr>
<tr><th scope="row">Status</th><td>${m.status}, ${m.attempts} attempt(s)!${m.sentAt ? html`, sent !${dateHtml(m.sentAt)}` : ''}</td></tr>
!${m.lastError ? html`<tr><th scope="row">Last error</th><td>${m.lastError}</td></tr>` : ''}
<tr><th scope="row">Created</th><td>!${dateHtml(m.createdAt)}</td></tr>
</tbody></table>
<h2>HTML</h2>
<iframe sandbox title="The message as HTML" srcdoc="${m.html}" style="width:100%;height:28rem;border:1px solid #ddd;border-radius:.35rem"></iframe>
<h2>Plain text</h2>
<pre style="white-space:pre-wrap">${m.text}</pre>
<p><a href="/admin/mail">← All mail</a></p>`;
    return sendPage(request, reply, { title: m.subject, body });
  });
}
