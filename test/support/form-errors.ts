import { parse } from 'node-html-parser';

/**
 * The field messages a re-rendered form shows, by field: each field's error
 * paragraph (`<p class="field-error" id="<field>-error">Label message</p>`),
 * as text. Compare with problem+json's `errors` using `endsWith(message)`.
 */
export function formFieldErrors(page: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of parse(page).querySelectorAll('p.field-error')) {
    const id = p.getAttribute('id');
    if (id?.endsWith('-error')) out.set(id.slice(0, -'-error'.length), p.textContent.trim());
  }
  return out;
}

/** Asserts the form shows, beside each field, the same message as the API's problem+json. */
export function sameMessages(problemErrors: { field: string; message: string }[], page: string): string | null {
  const shown = formFieldErrors(page);
  for (const { field, message } of problemErrors) {
    const text = shown.get(field);
    if (!text) return `the form shows no message for ${field} (it shows ${[...shown.keys()].join(', ') || 'none'})`;
    if (!text.endsWith(message)) return `${field}: the form says "${text}", the API "${message}"`;
  }
  return null;
}
