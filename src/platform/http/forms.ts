import { html } from '../../lib/html.ts';
import type { FieldError } from '../errors.ts';
import type { PageOptions } from './layout.ts';

/** What a form page needs to show a refused submission again: the problems and the input. */
export interface FormState {
  errors: FieldError[];
  values: Record<string, string | string[]>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * On a form POST route: renders the form page again. When the route's body
     * schema refuses the form, or the route throws an error naming fields, the
     * error handler answers with this page (the error's status), showing the
     * field errors and keeping what was typed, instead of a bare error page.
     */
    formPage?: (request: FastifyRequest, state: FormState) => PageOptions | Promise<PageOptions>;
  }
}

/** One submitted value as a string (the first, if the field came several times). */
export function submittedValue(values: FormState['values'] | undefined, name: string): string | undefined {
  const v = values?.[name];
  return Array.isArray(v) ? v[0] : v;
}

// Accessible form pieces: every input has a label, a hint and its error tied to
// it with aria-describedby, and a summary at the top links to each problem.

export interface FieldOptions {
  name: string;
  /** The element id, when a page has two fields of one name (default: the name). */
  id?: string;
  label: string;
  value: string;
  errors: FieldError[];
  type?: 'text' | 'email' | 'password' | 'textarea' | 'datetime-local';
  hint?: string;
  /** Extra attributes, already HTML (maxlength, pattern, autocomplete…). */
  attrs?: string;
}

function labelOf(field: string): string {
  return field.charAt(0).toUpperCase() + field.slice(1);
}

/** One labelled input (or textarea) with its hint and error message. */
export function fieldHtml(o: FieldOptions): string {
  const id = o.id ?? o.name;
  const messages = o.errors.filter((e) => e.field === o.name).map((e) => e.message);
  const ids = [o.hint ? `${id}-hint` : '', messages.length ? `${id}-error` : ''].filter(Boolean).join(' ');
  const common = html`id="${id}" name="${o.name}" aria-invalid="${messages.length ? 'true' : 'false'}"!${ids ? html` aria-describedby="${ids}"` : ''} !${o.attrs ?? ''}`;
  const input =
    o.type === 'textarea' ? html`<textarea !${common}>${o.value}</textarea>` : html`<input type="${o.type ?? 'text'}" !${common} value="${o.value}">`;
  return html`<div>
  <label for="${id}">${o.label}!${o.hint ? html` <span class="hint" id="${id}-hint">${o.hint}</span>` : ''}</label>
  !${input}
  !${messages.length ? html`<p class="field-error" id="${id}-error">${o.label} ${messages.join('; ')}</p>` : ''}
</div>`;
}

/** The box at the top of a form listing each problem, linked to its field. */
export function errorSummaryHtml(errors: FieldError[], labels: Record<string, string> = {}): string {
  if (errors.length === 0) return '';
  return html`<div class="error-summary" role="alert"><p><strong>Please fix ${errors.length === 1 ? 'this problem' : `these ${errors.length} problems`}:</strong></p>
<ul>!${errors.map((e) => html`<li><a href="#${e.field}">${labels[e.field] ?? labelOf(e.field)} ${e.message}</a></li>`)}</ul></div>`;
}

/** The hidden CSRF field every cookie-authenticated form carries. */
export function csrfField(token: string): string {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}
