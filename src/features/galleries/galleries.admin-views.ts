import { html } from '../../lib/html.ts';
import type { FieldError } from '../../platform/errors.ts';
import { csrfField, errorSummaryHtml, fieldHtml } from '../../platform/http/forms.ts';
import { type Media, pictureHtml } from '../media/index.ts';
import { type Gallery, LIMITS } from './galleries.service.ts';

/** The gallery form as typed: text fields, and per library image whether it is in, its place and caption. */
export interface GalleryForm {
  title: string;
  slug: string;
  description: string;
  /** By image id. */
  picks: Map<string, { use: boolean; order: string; caption: string }>;
}

const LABELS: Record<string, string> = { title: 'Title', slug: 'Slug', description: 'Description' };

/** The form's values for a gallery as stored (or empty, for a new one). */
export function formOf(g: Gallery | null): GalleryForm {
  const picks = new Map((g?.items ?? []).map((it, i) => [it.mediaId, { use: true, order: String(i + 1), caption: it.caption }]));
  return { title: g?.title ?? '', slug: g?.slug ?? '', description: g?.description ?? '', picks };
}

/** The admin list: every gallery, with a link to edit those the user may change. */
export function galleryListHtml(galleries: { g: Gallery; editable: boolean }[], csrf: string): string {
  const rows = galleries.map(
    ({ g, editable }) => html`<li><h2><a href="/galleries/${g.slug}">${g.title}</a></h2>
  <p>${g.items.length === 1 ? '1 image' : `${g.items.length} images`}!${g.owner ? html` · by ${g.owner.username}` : ''} · embed with <code>[gallery:${g.slug}]</code></p>
  !${
    editable
      ? html`<p><a href="/admin/galleries/${g.slug}/edit">Edit</a></p>
  <form method="post" action="/admin/galleries/${g.slug}/delete" class="inline">!${csrfField(csrf)}<button type="submit" class="danger" aria-label="Delete ${g.title}">Delete</button></form>`
      : ''
  }</li>`,
  );
  return html`<h1>Galleries</h1>
<p><a href="/admin/galleries/new">New gallery</a></p>
!${rows.length ? html`<ul class="post-list">!${rows}</ul>` : html`<p>No galleries yet.</p>`}`;
}

/**
 * The form that makes or changes a gallery, without JavaScript: each library image
 * has a checkbox (in the gallery or not), a number (its place) and a caption. The
 * gallery's own images come first, in their order.
 */
export function galleryFormHtml(opts: {
  heading: string;
  action: string;
  form: GalleryForm;
  errors: FieldError[];
  images: Media[];
  csrf: string;
  siteUrl: string;
}): string {
  const { form, errors, siteUrl } = opts;
  const errorOf = (field: string) => errors.filter((e) => e.field === field).map((e) => e.message);
  const rows = opts.images.map((m) => {
    const p = form.picks.get(m.id) ?? { use: false, order: '', caption: '' };
    const label = m.alt || m.originalName;
    const problems = [...errorOf(`use_${m.id}`), ...errorOf(`order_${m.id}`), ...errorOf(`caption_${m.id}`)];
    return html`<li id="image-${m.id}">
  <figure>!${pictureHtml(m, { alt: '', sizes: '8rem', eager: false, siteUrl })}<figcaption>${label}</figcaption></figure>
  <div><input type="checkbox" id="use_${m.id}" name="use_${m.id}" value="1"!${p.use ? ' checked' : ''}> <label for="use_${m.id}">In the gallery: ${label}</label></div>
  <div><label for="order_${m.id}">Place of ${label}</label> <input type="number" id="order_${m.id}" name="order_${m.id}" value="${p.order}" min="1" max="${LIMITS.items}" inputmode="numeric" aria-invalid="${errorOf(`order_${m.id}`).length ? 'true' : 'false'}"></div>
  <div><label for="caption_${m.id}">Caption for ${label} <span class="hint">(empty: the image's own)</span></label> <input id="caption_${m.id}" name="caption_${m.id}" value="${p.caption}" maxlength="${LIMITS.caption}" aria-invalid="${errorOf(`caption_${m.id}`).length ? 'true' : 'false'}"></div>
  !${problems.length ? html`<p class="field-error" id="image-${m.id}-error">${label}: ${problems.join('; ')}</p>` : ''}
</li>`;
  });
  const summaryLabels: Record<string, string> = { ...LABELS };
  for (const m of opts.images) {
    const label = m.alt || m.originalName;
    summaryLabels[`use_${m.id}`] = label;
    summaryLabels[`order_${m.id}`] = `Place of ${label}`;
    summaryLabels[`caption_${m.id}`] = `Caption for ${label}`;
  }
  return html`<h1>${opts.heading}</h1>
!${errorSummaryHtml(errors, summaryLabels)}
<form method="post" action="${opts.action}" class="gallery-form">
  !${csrfField(opts.csrf)}
  !${fieldHtml({ name: 'title', label: 'Title', value: form.title, errors, attrs: html`maxlength="${LIMITS.title}" required` })}
  !${fieldHtml({ name: 'slug', label: 'Slug', value: form.slug, errors, hint: '(its address /galleries/…; empty: made from the title)', attrs: html`maxlength="${LIMITS.slug}"` })}
  !${fieldHtml({ name: 'description', label: 'Description', value: form.description, errors, type: 'textarea', attrs: html`maxlength="${LIMITS.description}" rows="3"` })}
  <fieldset id="items"><legend>Images <span class="hint">Tick the images to show; they appear by their place (1 first). <a href="/admin/media">Upload more</a>.</span></legend>
  !${errorOf('items').length ? html`<p class="field-error" id="items-error">Images ${errorOf('items').join('; ')}</p>` : ''}
  !${rows.length ? html`<ul class="gallery-picker">!${rows}</ul>` : html`<p>No images yet: <a href="/admin/media">upload some</a> first.</p>`}
  </fieldset>
  <div class="actions"><button type="submit">Save gallery</button></div>
</form>`;
}
