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

// Formatters by time zone, made on first use: a blog in UTC never loads ICU's
// locale data (see above); one in another zone pays for it once, on the first
// page that shows a time of day. A memo of a pure function: no app state.
const zoned = new Map<string, Intl.DateTimeFormat>();

/** A date and time of day in the site's time zone, as text: "1 December 2026, 09:00 UTC". */
export function dateTimeText(iso: string, timeZone: string): string {
  const d = new Date(iso);
  if (timeZone === 'UTC') {
    const hh = String(d.getUTCHours()).padStart(2, '0');
    const mm = String(d.getUTCMinutes()).padStart(2, '0');
    return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${hh}:${mm} UTC`;
  }
  let f = zoned.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      day: 'numeric',
      month: 'long',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    zoned.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(d).map((p) => [p.type, p.value]));
  return `${parts.day} ${parts.month} ${parts.year}, ${parts.hour}:${parts.minute} ${parts.timeZoneName}`;
}

/** dateTimeText() inside a <time> element with the machine-readable value. */
export function dateTimeHtml(iso: string, timeZone: string): string {
  return html`<time datetime="${iso}">${dateTimeText(iso, timeZone)}</time>`;
}
