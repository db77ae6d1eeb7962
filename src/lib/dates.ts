import { html } from './html.ts';

// en-GB, UTC: "23 November 2026". Written out instead of Intl.DateTimeFormat:
// toLocaleDateString() built a formatter per call (~100 µs a post, a fifth of the
// front page's speed); one shared formatter still cost ~3 % of a list page and
// loaded ICU's locale data (start-up time and memory). Same output.
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** A date as readers expect to see it, with the machine-readable value alongside. */
export function dateHtml(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  const text = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
  return html`<time datetime="${iso}">${text}</time>`;
}
