import type { FastifyInstance } from 'fastify';
import { html } from '../../lib/html.ts';
import { dateHtml } from '../../lib/dates.ts';
import { requireAdmin } from '../../platform/http/auth.ts';
import { sendPage } from '../../platform/http/layout.ts';
import type { Subscription, SubscriptionsService } from './subscriptions.service.ts';

const PAGE = 100;

/**
 * One CSV cell: quoted, and safe to open in a spreadsheet. A cell that starts
 * with = + - @ (or a tab or carriage return) would be read as a formula, so it
 * gets a leading apostrophe (OWASP, "CSV injection").
 */
export function csvCell(value: string | number | null): string {
  let s = value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

export function subscribersCsv(rows: Subscription[]): string {
  const head = ['email', 'author', 'frequency', 'status', 'created_at', 'confirmed_at'];
  const lines = rows.map((r) => [r.email, r.author ?? '', r.frequency, r.status, r.createdAt, r.confirmedAt].map(csvCell).join(','));
  return `${[head.map(csvCell).join(','), ...lines].join('\r\n')}\r\n`;
}

/** /admin/subscribers: counts, the list, and the CSV export. */
export async function subscriptionsAdminRoutes(app: FastifyInstance, opts: { subscriptions: SubscriptionsService }) {
  const { subscriptions } = opts;
  const admin = (request: Parameters<typeof requireAdmin>[0]) => requireAdmin(request, 'Only admins see subscribers');

  app.get<{ Querystring: { page?: string } }>('/admin/subscribers', async (request, reply) => {
    admin(request);
    const page = /^\d{1,6}$/.test(request.query.page ?? '') ? Math.max(1, Number(request.query.page)) : 1;
    const { byStatus, perAuthor } = await subscriptions.counts();
    const rows = await subscriptions.list({ limit: PAGE + 1, offset: (page - 1) * PAGE });
    const more = rows.length > PAGE;
    const body = html`<h1>Subscribers</h1>
<ul class="counts">
  <li><strong id="count-confirmed">${byStatus.confirmed}</strong> confirmed</li>
  <li><strong id="count-pending">${byStatus.pending}</strong> waiting for confirmation</li>
  <li><strong id="count-unsubscribed">${byStatus.unsubscribed}</strong> unsubscribed</li>
</ul>
<h2>Confirmed, per list</h2>
<table class="dash"><thead><tr><th scope="col">List</th><th scope="col">Confirmed</th></tr></thead><tbody>
!${perAuthor.map((p) => html`<tr><td>!${p.author ? html`<a href="/@${p.author}">${p.author}</a>` : 'The whole blog'}</td><td>${p.confirmed}</td></tr>`)}
</tbody></table>
<p><a href="/admin/subscribers.csv" download>Export all as CSV</a></p>
<h2>Everyone</h2>
<table class="dash"><thead><tr><th scope="col">Email</th><th scope="col">List</th><th scope="col">How often</th><th scope="col">Status</th><th scope="col">Since</th></tr></thead><tbody>
!${rows
      .slice(0, PAGE)
      .map(
        (r) =>
          html`<tr><td>${r.email}</td><td>${r.author ?? 'The whole blog'}</td><td>${r.frequency}</td><td>${r.status}</td><td>!${dateHtml(r.createdAt)}</td></tr>`,
      )}
</tbody></table>
<nav class="pager" aria-label="Pagination">!${page > 1 ? html`<a href="/admin/subscribers?page=${page - 1}">← Newer</a>` : '<span></span>'}!${more ? html`<a href="/admin/subscribers?page=${page + 1}">Older →</a>` : ''}</nav>`;
    return sendPage(request, reply, { title: 'Subscribers', body });
  });

  app.get('/admin/subscribers.csv', async (request, reply) => {
    admin(request);
    const csv = subscribersCsv(await subscriptions.list());
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="subscribers.csv"')
      .header('cache-control', 'no-store')
      .send(csv);
  });
}
