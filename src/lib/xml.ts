// A small XML writer that is escaped by default, for the feeds and the sitemap.
// Every string that reaches the output, text or attribute value, goes through
// one escaper, which also drops characters XML 1.0 does not allow at all (C0
// controls other than tab, newline and carriage return; U+FFFE and U+FFFF;
// lone surrogates): no escaping can make those well-formed, and a strict
// reader rejects the whole document for one of them.

// XML 1.0 "Char": #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
// With the u flag a lone surrogate is one code point in D800-DFFF, so it matches too.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const NOT_XML_CHARS = new RegExp(NOT_XML_CHAR.source, 'gu');

/** The first character of `s` that XML 1.0 does not allow, or null. */
export function firstNonXmlChar(s: string): string | null {
  const m = NOT_XML_CHAR.exec(s);
  return m ? m[0] : null;
}

/**
 * What is wrong with a piece of text that holds a character XML 1.0 does not
 * allow, as a field error message, or null when it is fine. Such text could
 * never appear in a feed, and has no business in a post or a profile.
 */
export function nonXmlCharProblem(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const c = firstNonXmlChar(value);
  if (c === null) return null;
  const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  return `must not contain control characters or other non-text codes (found ${code}); tab, newline and carriage return are fine`;
}

/** `s` without the characters XML 1.0 does not allow. */
export function stripNonXmlChars(s: string): string {
  return NOT_XML_CHAR.test(s) ? s.replace(NOT_XML_CHARS, '') : s;
}

// In attributes, quotes are escaped, and so are tab, newline and carriage
// return, which attribute-value normalization would otherwise turn into spaces.
const ATTR_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/** Escapes text for element content (`>` too, so `]]>` never appears). */
export function xmlText(s: string): string {
  // Bodies are large escaped HTML: three plain replaceAlls are about twice as fast as one regex with a callback.
  return stripNonXmlChars(s).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Escapes text for a double- or single-quoted attribute value. */
export function xmlAttr(s: string): string {
  return stripNonXmlChars(s).replace(/[&<>"'\t\n\r]/g, (c) => ATTR_ESCAPES[c]);
}

/** Markup that is already XML: made only by el(), so it is always escaped. */
export class XmlNode {
  readonly xml: string;
  constructor(xml: string) {
    this.xml = xml;
  }
}

type Child = XmlNode | string | null | undefined | false;
const NAME = /^[A-Za-z_][\w.:-]*$/;

/**
 * One element: attributes with undefined values are left out, string children
 * are text (escaped), XmlNode children are inserted as they are.
 */
export function el(name: string, attrs: Record<string, string | undefined> | null, ...children: (Child | Child[])[]): XmlNode {
  if (!NAME.test(name)) throw new Error(`not an XML name: ${name}`);
  let out = `<${name}`;
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined) continue;
    if (!NAME.test(k)) throw new Error(`not an XML name: ${k}`);
    out += ` ${k}="${xmlAttr(v)}"`;
  }
  const inner = children
    .flat()
    .map((c) => (c instanceof XmlNode ? c.xml : typeof c === 'string' ? xmlText(c) : ''))
    .join('');
  return new XmlNode(inner === '' && !children.flat().some((c) => typeof c === 'string') ? `${out}/>` : `${out}>${inner}</${name}>`);
}

/** A whole document: the XML declaration and the root element. */
export function xmlDocument(root: XmlNode): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${root.xml}\n`;
}
