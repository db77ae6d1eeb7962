import { html } from '../../../lib/html.ts';
import type { FieldError } from '../../../platform/errors.ts';
import { csrfField, errorSummaryHtml, fieldHtml } from '../../../platform/http/forms.ts';
import { LIMITS } from '../posts.service.ts';

export interface PostFormValues {
  title: string;
  slug: string;
  body: string;
  excerpt: string;
  tags: string;
  status: string;
  /** For scheduling: YYYY-MM-DDTHH:MM in the site's time zone. */
  publishedAt: string;
  featureImage: string;
  featureImageAlt: string;
}

/** An uploaded image the writer may choose or insert. */
export interface LibraryImage {
  id: string;
  label: string;
  thumbUrl: string;
  markdown: string;
}

/** The write/edit form; shows each problem beside its field and keeps what was typed. */
export function postFormHtml(opts: {
  heading: string;
  action: string;
  method: 'POST' | 'PUT';
  values: PostFormValues;
  errors: FieldError[];
  csrf: string;
  /** When editing: the post's state now. A published post is updated in place; unpublishing is its own button. */
  current?: 'draft' | 'published' | 'scheduled';
  /** When editing: where the Unpublish button posts. */
  slug?: string;
  /** When editing: the preview-link and revision controls, already HTML. */
  extra?: string;
  /** The site's time zone: "Publish at" is a wall-clock time there. */
  timeZone: string;
  /** Recent uploads: a choice for the featured image and snippets to paste into the body. */
  library?: LibraryImage[];
}): string {
  const { values: v, errors } = opts;
  const statusError = errors.find((e) => e.field === 'status');
  return html`<h1>${opts.heading}</h1>
!${errorSummaryHtml(errors)}
<form class="stacked" method="post" action="${opts.action}" novalidate>
  !${csrfField(opts.csrf)}
  !${opts.method === 'PUT' ? html`<input type="hidden" name="_method" value="PUT">` : ''}
  !${fieldHtml({ name: 'title', label: 'Title', value: v.title, errors, attrs: html`maxlength="${LIMITS.title}" required` })}
  !${fieldHtml({ name: 'slug', label: 'Slug', value: v.slug, errors, hint: '(the address, /posts/your-slug; leave empty to derive it from the title)', attrs: html`maxlength="${LIMITS.slug}"` })}
  !${fieldHtml({ name: 'body', label: 'Body', type: 'textarea', value: v.body, errors, hint: '(Markdown)', attrs: 'required' })}
  !${recentUploadsHtml(opts.library ?? [])}
  !${fieldHtml({ name: 'excerpt', label: 'Excerpt', value: v.excerpt, errors, hint: '(optional; the start of the body is used otherwise)', attrs: html`maxlength="${LIMITS.excerpt}"` })}
  !${featureImageHtml(v, errors, opts.library ?? [])}
  !${fieldHtml({ name: 'tags', label: 'Tags', value: v.tags, errors, hint: '(comma-separated)' })}
  !${fieldHtml({ name: 'publishedAt', label: 'Publish at', type: 'datetime-local', value: v.publishedAt, errors, hint: `(${opts.timeZone} time; only for “Schedule”)` })}
  !${statusError ? html`<p class="field-error" id="status-error">Status ${statusError.message}</p>` : ''}
  !${
    opts.current === 'published'
      ? // Published: saving keeps it online. Taking it offline is the separate Unpublish form below.
        html`<div class="actions"><button type="submit" name="status" value="published">Update</button></div>`
      : html`<div class="actions">
    <button type="submit" name="status" value="published">Publish</button>
    <button type="submit" name="status" value="scheduled" class="link">Schedule</button>
    <button type="submit" name="status" value="draft" class="link">Save as draft</button>
  </div>`
  }
</form>
!${
    opts.current === 'published' && opts.slug
      ? html`<form method="post" action="/posts/${opts.slug}/unpublish" class="inline unpublish">
  !${csrfField(opts.csrf)}
  <p>Unpublishing takes the post offline and keeps it as a draft. <button type="submit" class="danger">Unpublish</button></p>
</form>`
      : ''
  }
!${opts.extra ?? ''}`;
}

function featureImageHtml(v: PostFormValues, errors: FieldError[], library: LibraryImage[]): string {
  if (!library.length && !v.featureImage) return '';
  const error = errors.find((e) => e.field === 'featureImage');
  // The current choice stays selectable even when it is no longer among the newest.
  const known = library.some((m) => m.id === v.featureImage);
  return html`<div>
  <label for="featureImage">Featured image <span class="hint" id="featureImage-hint">(shown at the top of the post, in lists and in feeds)</span></label>
  <select id="featureImage" name="featureImage" aria-invalid="${error ? 'true' : 'false'}" aria-describedby="featureImage-hint!${error ? ' featureImage-error' : ''}">
    <option value="">None</option>
    !${v.featureImage && !known ? html`<option value="${v.featureImage}" selected>${v.featureImage}</option>` : ''}
    !${library.map((m) => html`<option value="${m.id}"!${m.id === v.featureImage ? ' selected' : ''}>${m.label}</option>`)}
  </select>
  !${error ? html`<p class="field-error" id="featureImage-error">Featured image ${error.message}</p>` : ''}
</div>
!${fieldHtml({ name: 'featureImageAlt', label: 'Featured image alt text', value: v.featureImageAlt, errors, hint: "(empty: the image's own alt text)", attrs: html`maxlength="${LIMITS.featureImageAlt}"` })}`;
}

/** The newest uploads with a Markdown line to copy into the body (works without JavaScript). */
function recentUploadsHtml(library: LibraryImage[]): string {
  if (!library.length) return html`<p class="hint"><a href="/admin/media">Upload images</a> to use them in posts.</p>`;
  return html`<details class="recent-uploads" open>
  <summary>Recent uploads: copy a line into the body</summary>
  <p><a href="/admin/media">Upload more</a></p>
  <ul>
    !${library.map(
      (m) =>
        html`<li><img src="${m.thumbUrl}" alt="" width="64" height="48" loading="lazy"> <label>${m.label} <input type="text" readonly value="${m.markdown}" class="snippet" data-markdown="${m.markdown}" aria-label="Markdown for ${m.label}"></label></li>`,
    )}
  </ul>
</details>
<script src="/assets/post-editor.js" defer></script>`;
}
