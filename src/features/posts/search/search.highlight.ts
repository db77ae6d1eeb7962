// Matches in a snippet are marked by the engine (FTS5 snippet(), PostgreSQL
// ts_headline()) with two private-use characters, which indexed text never
// contains (indexText strips them). Turning the marked text into HTML here
// means everything the writer wrote is escaped, and only our <mark> is markup.

/** Opens a match in engine output. */
export const MARK_OPEN = '\uE000';
/** Closes a match in engine output. */
export const MARK_CLOSE = '\uE001';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** Text as it goes into the index: without the match markers (or NUL, which PostgreSQL refuses). */
export function indexText(text: string): string {
  return text.replace(/[\uE000\uE001\u0000]/g, '');
}

/** Engine output with markers -> safe HTML: escaped text, matches in balanced <mark> elements. */
export function highlightHtml(marked: string): string {
  let out = '';
  let open = false;
  for (const part of marked.split(/([\uE000\uE001])/)) {
    if (part === MARK_OPEN) {
      if (!open) out += '<mark>';
      open = true;
    } else if (part === MARK_CLOSE) {
      if (open) out += '</mark>';
      open = false;
    } else out += escapeHtml(part);
  }
  return open ? `${out}</mark>` : out;
}
