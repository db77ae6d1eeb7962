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

// Numeric wall-clock parts by time zone (for datetime-local fields), made on first use.
const wallFormats = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock time of an instant in a time zone, as milliseconds of the same figures in UTC. */
function wallMs(ms: number, timeZone: string): number {
  if (timeZone === 'UTC') return ms - (ms % 1000);
  let f = wallFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    wallFormats.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
}

const LOCAL = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?$/;

/**
 * The instant (ISO 8601, UTC) a wall-clock time of a time zone names, as an
 * <input type="datetime-local"> sends it (2026-12-01T09:00), or null when the
 * text is no such time. Across a change of the clocks it does what calendars
 * do: a time skipped in spring means the same length of time after the change
 * (02:30 becomes 03:30), and a time that happens twice in autumn is the first.
 */
export function zonedLocalToIso(local: string, timeZone: string): string | null {
  const m = LOCAL.exec(local);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0));
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(wall);
  // Date.UTC rolls over (Feb 30 is Mar 2): such a text is no time at all.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return null;
  const DAY = 86_400_000;
  // The zone's offsets a day either side: no zone changes its clocks twice in two days.
  const before = wall - (wallMs(wall - DAY, timeZone) - (wall - DAY));
  const after = wall - (wallMs(wall + DAY, timeZone) - (wall + DAY));
  const fits = [before, after].filter((t) => wallMs(t, timeZone) === wall);
  const at = fits.length ? Math.min(...fits) : before;
  return new Date(at).toISOString();
}

/** An instant as a datetime-local value (YYYY-MM-DDTHH:MM) in a time zone. */
export function isoToZonedLocal(iso: string, timeZone: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '';
  return new Date(wallMs(ms, timeZone)).toISOString().slice(0, 16);
}
