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
  /** For scheduling: YYYY-MM-DDTHH:MM in UTC. */
  publishedAt: string;
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
  !${fieldHtml({ name: 'excerpt', label: 'Excerpt', value: v.excerpt, errors, hint: '(optional; the start of the body is used otherwise)', attrs: html`maxlength="${LIMITS.excerpt}"` })}
  !${fieldHtml({ name: 'tags', label: 'Tags', value: v.tags, errors, hint: '(comma-separated)' })}
  !${fieldHtml({ name: 'publishedAt', label: 'Publish at', type: 'datetime-local', value: v.publishedAt, errors, hint: '(UTC; only for “Schedule”)' })}
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
