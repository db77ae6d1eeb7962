import type { FastifyInstance, FastifyRequest } from 'fastify';
import { html } from '../../lib/html.ts';
import { AppError, type FieldError } from '../../platform/errors.ts';
import { requireUser } from '../../platform/http/auth.ts';
import { csrfField, errorSummaryHtml, fieldHtml, submittedValue, type FormState } from '../../platform/http/forms.ts';
import { readInput } from '../../platform/http/input.ts';
import { absoluteUrl, type PageOptions, sendPage } from '../../platform/http/layout.ts';
import { PageInputSchema } from './pages.schema.ts';
import type { MediaService } from '../media/index.ts';
import { canEditPages, LIMITS, type Page, type PagesService } from './pages.service.ts';

type Form = { title: string; slug: string; description: string; body: string; imageId: string; status: string };
const LABELS = { title: 'Title', slug: 'Slug', description: 'Description', body: 'Text', imageId: 'Image', status: 'Status' };

/** The public page at /pages/:slug, and the editor under /admin/pages. */
export async function pagesRoutes(app: FastifyInstance, opts: { pages: PagesService; media: MediaService }) {
  const { pages, media } = opts;

  app.get<{ Params: { slug: string } }>('/pages/:slug', { config: { cacheAnonymous: true } }, async (request, reply) => {
    const page = await pages.get(request.user, request.params.slug, 'slug');
    const { site } = request.server.layout;
    const url = absoluteUrl(site, `/pages/${page.slug}`);
    const edit = canEditPages(request.user)
      ? html`<p class="meta"><a href="/admin/pages/${page.id}/edit">Edit this page</a>${page.status === 'draft' ? ' · Draft' : ''}</p>`
      : '';
    return sendPage(request, reply, {
      title: page.title,
      description: page.description,
      canonical: `/pages/${page.slug}`,
      ...(page.image ? { image: absoluteUrl(site, page.image.url) } : {}),
      noindex: page.status !== 'published',
      jsonLd: { '@context': 'https://schema.org', '@type': 'WebPage', name: page.title, description: page.description, url, dateModified: page.updatedAt },
      body: html`<article class="post page"><h1>${page.title}</h1>!${edit}<div class="body">!${page.bodyHtml}</div></article>`,
    });
  });

  const editor = (request: FastifyRequest) => {
    const user = requireUser(request);
    if (!canEditPages(user)) throw new AppError('forbidden', 'Only editors and admins write pages');
    return user;
  };

  app.get('/admin/pages', async (request, reply) => {
    const user = editor(request);
    const list = await pages.list(user);
    return sendPage(request, reply, {
      title: 'Pages',
      body: html`<h1>Pages</h1><p><a class="button" href="/admin/pages/new">New page</a></p>
<p class="hint">Pages live at /pages/<em>slug</em>. Add them to the header's menu in the <a href="/admin/site">site settings</a>.</p>
<table class="dash"><thead><tr><th>Title</th><th>Address</th><th>Status</th></tr></thead><tbody>
!${list.map((p) => html`<tr><td><a href="/admin/pages/${p.id}/edit">${p.title}</a></td><td><a href="/pages/${p.slug}">/pages/${p.slug}</a></td><td>${p.status}</td></tr>`)}
</tbody></table>`,
    });
  });

  async function formPage(request: FastifyRequest, form: Form, errors: FieldError[], page: Page | null): Promise<PageOptions> {
    const { items } = await media.list({ limit: 100 });
    const f = (name: keyof Form, label: string, extra: { type?: 'text' | 'textarea'; hint?: string; attrs?: string } = {}) =>
      fieldHtml({ name, label, value: form[name], errors, ...extra });
    const option = (value: string, label: string, current: string) => html`<option value="${value}"!${value === current ? ' selected' : ''}>${label}</option>`;
    const heading = page ? `Edit “${page.title}”` : 'New page';
    const imageError = errors.find((e) => e.field === 'imageId');
    return {
      title: heading,
      body: html`<h1>${heading}</h1>
!${errorSummaryHtml(errors, LABELS)}
<form method="post" action="${page ? `/admin/pages/${page.id}` : '/admin/pages'}" class="stacked" novalidate>
!${csrfField(request.csrfToken())}
!${f('title', 'Title', { attrs: html`maxlength="${LIMITS.title}" required` })}
!${f('slug', 'Slug', { hint: 'The address: /pages/<slug>. Made from the title when empty.' })}
!${f('description', 'Description', { hint: 'For search engines and sharing cards.', attrs: html`maxlength="${LIMITS.description}"` })}
!${f('body', 'Text', { type: 'textarea', hint: 'Markdown.', attrs: 'rows="16"' })}
<div><label for="imageId">Image <span class="hint">for sharing cards</span></label>
<select id="imageId" name="imageId" aria-invalid="${imageError ? 'true' : 'false'}">!${option('', 'None', form.imageId)}!${items.map((m) => option(m.id, m.alt || m.originalName, form.imageId))}</select>
!${imageError ? html`<p class="field-error">Image ${imageError.message}</p>` : ''}</div>
<div><label for="status">Status</label><select id="status" name="status">!${option('draft', 'Draft', form.status)}!${option('published', 'Published', form.status)}</select></div>
<p><button type="submit">Save page</button></p>
</form>
!${page ? html`<form method="post" action="/admin/pages/${page.id}/delete">!${csrfField(request.csrfToken())}<button class="danger">Delete this page</button></form>` : ''}`,
    };
  }

  // A refused form: the editor again, as typed.
  const sent = (state: FormState): Form => {
    const v = (k: keyof Form) => submittedValue(state.values, k) ?? '';
    return { title: v('title'), slug: v('slug'), description: v('description'), body: v('body'), imageId: v('imageId'), status: v('status') || 'draft' };
  };
  const newFormPage = (request: FastifyRequest, state: FormState) => formPage(request, sent(state), state.errors, null);
  const editFormPage = async (request: FastifyRequest, state: FormState) =>
    formPage(request, sent(state), state.errors, await pages.get(request.user, (request.params as { id: string }).id));

  app.get('/admin/pages/new', async (request, reply) => {
    editor(request);
    return sendPage(request, reply, await formPage(request, { title: '', slug: '', description: '', body: '', imageId: '', status: 'draft' }, [], null));
  });

  app.post('/admin/pages', { config: { formPage: newFormPage } }, async (request, reply) => {
    const user = editor(request);
    const page = await pages.create(user, readInput(request, PageInputSchema));
    reply.setFlash(page.status === 'published' ? 'Page published' : 'Draft saved');
    return reply.code(303).redirect(`/pages/${page.slug}`);
  });

  app.get<{ Params: { id: string } }>('/admin/pages/:id/edit', async (request, reply) => {
    const user = editor(request);
    const page = await pages.get(user, request.params.id);
    const form = { title: page.title, slug: page.slug, description: page.description, body: page.body, imageId: page.image?.id ?? '', status: page.status };
    return sendPage(request, reply, await formPage(request, form, [], page));
  });

  app.post<{ Params: { id: string } }>('/admin/pages/:id', { config: { formPage: editFormPage } }, async (request, reply) => {
    const user = editor(request);
    const page = await pages.get(user, request.params.id);
    const saved = await pages.update(user, page.id, readInput(request, PageInputSchema));
    reply.setFlash('Page saved');
    return reply.code(303).redirect(`/pages/${saved.slug}`);
  });

  app.post<{ Params: { id: string } }>('/admin/pages/:id/delete', async (request, reply) => {
    const user = editor(request);
    await pages.remove(user, request.params.id);
    reply.setFlash('Page deleted');
    return reply.code(303).redirect('/admin/pages');
  });
}
