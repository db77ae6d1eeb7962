/**
 * Escape-by-default HTML templates. `html` escapes every interpolated value;
 * `!${x}` inserts x as-is, and is only for strings that are already HTML
 * (the result of another html`` call, or sanitized Markdown).
 */
export { html } from 'ghtml';

/** Escapes text for XML (RSS/Atom/sitemap) element content and attributes. */
export function xmlEscape(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
