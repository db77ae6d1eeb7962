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

// Wall-clock parts in a zone, for <input type="datetime-local">, which has no zone.
const walls = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock time in the zone at an instant, as if it were UTC (milliseconds). */
function wallClock(ms: number, timeZone: string): number {
  let f = walls.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    walls.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, Number(x.value)]));
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
}

/** "2026-12-01T09:00" (or with seconds) read as a time of day in the zone: the UTC instant, ISO. */
export function zonedLocalToIso(local: string, timeZone: string): string {
  const asUtc = Date.parse(`${local.length === 16 ? `${local}:00` : local}Z`);
  if (timeZone === 'UTC' || Number.isNaN(asUtc)) return new Date(asUtc).toISOString();
  // The zone's offset at the guess, then again at the answer (a DST change in between).
  let at = asUtc - (wallClock(asUtc, timeZone) - asUtc);
  at = asUtc - (wallClock(at, timeZone) - at);
  return new Date(at).toISOString();
}

/** An instant as "2026-12-01T10:00" in the zone, for a datetime-local field. */
export function isoToZonedLocal(iso: string, timeZone: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '';
  return new Date(timeZone === 'UTC' ? ms : wallClock(ms, timeZone)).toISOString().slice(0, 16);
}
