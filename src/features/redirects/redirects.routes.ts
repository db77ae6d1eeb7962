import type { FastifyInstance, FastifyRequest } from 'fastify';
import { html } from '../../lib/html.ts';
import { dateHtml } from '../../lib/dates.ts';
import { AppError } from '../../platform/errors.ts';
import { requireAdmin } from '../../platform/http/auth.ts';
import { csrfField, errorSummaryHtml, fieldHtml, submittedValue, type FormState } from '../../platform/http/forms.ts';
import { readInput } from '../../platform/http/input.ts';
import { sendPage } from '../../platform/http/layout.ts';
import { RedirectCreateSchema } from './redirects.schema.ts';
import type { RedirectsService } from './redirects.service.ts';

const FORBIDDEN = 'Only admins manage redirects';

/** /admin/redirects: the list, a form to add one, a button to delete each. */
export async function redirectsRoutes(app: FastifyInstance, opts: { redirects: RedirectsService }) {
  const { redirects } = opts;

  async function page(request: FastifyRequest, extra: { errors?: AppError['errors']; values?: Record<string, string> } = {}) {
    const list = await redirects.list();
    const csrf = request.csrfToken();
    const errors = extra.errors ?? [];
    const v = extra.values ?? {};
    return html`<h1>Redirects</h1>
<p>An address here that has nothing else answers with a redirect to its new place. Renamed posts and imports add theirs by themselves.</p>
<h2>Add a redirect</h2>
!${errorSummaryHtml(errors, { from: 'Old address', to: 'New address', status: 'Kind' })}
<form class="stacked" method="post" action="/admin/redirects" novalidate>!${csrfField(csrf)}
!${fieldHtml({ name: 'from', label: 'Old address', value: v.from ?? '', errors, hint: '(a path on this site, like /2019/05/06/old-post/)', attrs: 'required maxlength="500"' })}
!${fieldHtml({ name: 'to', label: 'New address', value: v.to ?? '', errors, hint: '(a path like /posts/new-post, or an https:// address)', attrs: 'required maxlength="500"' })}
<div><label for="status">Kind</label> <select id="status" name="status">
<option value="301"!${v.status === '302' ? '' : ' selected'}>301: moved for good</option>
<option value="302"!${v.status === '302' ? ' selected' : ''}>302: moved for now</option></select></div>
<div class="actions"><button type="submit">Add redirect</button></div></form>
<h2>All redirects</h2>
!${
      list.length
        ? html`<table class="dash"><thead><tr><th scope="col">From</th><th scope="col">To</th><th scope="col">Kind</th><th scope="col" class="opt">Made by</th><th scope="col" class="opt">Added</th><th scope="col">Actions</th></tr></thead><tbody>
!${list.map(
            (
              r,
            ) => html`<tr><td><code>${r.from}</code></td><td><code>${r.to}</code></td><td>${r.status}</td><td class="opt">${r.source}</td><td class="opt">!${dateHtml(r.createdAt)}</td>
<td><form method="post" action="/admin/redirects/${r.id}/delete" class="inline">!${csrfField(csrf)}<button class="link" type="submit">Delete</button></form></td></tr>`,
          )}
</tbody></table>`
        : html`<p>No redirects yet.</p>`
    }`;
  }

  app.get('/admin/redirects', async (request, reply) => {
    requireAdmin(request, FORBIDDEN);
    return sendPage(request, reply, { title: 'Redirects', body: await page(request) });
  });

  // A refused redirect: the page again, with the form as typed.
  const formPage = async (request: FastifyRequest, state: FormState) => {
    const v = (k: string) => submittedValue(state.values, k) ?? '';
    return { title: 'Redirects', body: await page(request, { errors: state.errors, values: { from: v('from'), to: v('to'), status: v('status') } }) };
  };

  app.post('/admin/redirects', { config: { formPage } }, async (request, reply) => {
    requireAdmin(request, FORBIDDEN);
    await redirects.create(readInput(request, RedirectCreateSchema));
    reply.setFlash('Redirect added');
    return reply.code(303).redirect('/admin/redirects');
  });

  app.post<{ Params: { id: string } }>('/admin/redirects/:id/delete', async (request, reply) => {
    requireAdmin(request, FORBIDDEN);
    if (!/^\d{1,9}$/.test(request.params.id)) throw new AppError('not_found', 'No redirect with that id');
    await redirects.remove(Number(request.params.id));
    reply.setFlash('Redirect deleted');
    return reply.code(303).redirect('/admin/redirects');
  });
}
