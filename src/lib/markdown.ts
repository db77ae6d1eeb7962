import { createRequire } from 'node:module';
import type MarkdownItType from 'markdown-it';
import type sanitizeHtmlType from 'sanitize-html';

// markdown-it and sanitize-html (with postcss and htmlparser2, ~100 modules) are
// loaded on first use: a server that only reads never needs them, and they cost
// start-up time and idle memory (issue 6).
const require = createRequire(import.meta.url);
let loaded: { MarkdownIt: typeof MarkdownItType; sanitizeHtml: typeof sanitizeHtmlType } | undefined;
const libs = () =>
  (loaded ??= { MarkdownIt: require('markdown-it') as typeof MarkdownItType, sanitizeHtml: require('sanitize-html') as typeof sanitizeHtmlType });
const sanitizeHtml = (html: string, options: sanitizeHtmlType.IOptions) => libs().sanitizeHtml(html, options);
function lazily<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

// Raw HTML in Markdown is shown as text (html: false), and whatever markdown-it
// emits is sanitized again, so neither a bug in one nor a plugin added later
// can let script, event handlers or javascript: URLs reach a page.
const md = lazily(() => {
  const it = new (libs().MarkdownIt)({ html: false, linkify: true, typographer: true });
  // The post page's title is its one <h1>, so a body's headings start at <h2>:
  // its highest heading becomes h2 and the others move with it (# is h2, ## is
  // h3, ...; a body whose sections are ## has them as h2; h6 stays h6), which
  // keeps the outline readers and screen readers navigate by correct.
  it.core.ruler.push('shift_headings', (state) => {
    let top = 6;
    for (const t of state.tokens) if (t.type === 'heading_open') top = Math.min(top, Number(t.tag.slice(1)));
    const by = 2 - top;
    for (const t of state.tokens) {
      if (t.type === 'heading_open' || t.type === 'heading_close') t.tag = `h${Math.min(Number(t.tag.slice(1)) + by, 6)}`;
    }
  });
  return it;
});

const postLink = lazily(() => libs().sanitizeHtml.simpleTransform('a', { rel: 'nofollow noopener noreferrer' }));
const SANITIZE: sanitizeHtmlType.IOptions = {
  allowedTags: [
    'p',
    'br',
    'hr',
    'h2',
    'h3',
    'h4',
    'h5',
    'h6',
    'blockquote',
    'pre',
    'code',
    'em',
    'strong',
    'del',
    's',
    'a',
    'img',
    'ul',
    'ol',
    'li',
    'table',
    'thead',
    'tbody',
    'tr',
    'th',
    'td',
    'sup',
    'sub',
  ],
  allowedAttributes: {
    a: ['href', 'title'],
    img: ['src', 'alt', 'title'],
    ol: ['start'],
    th: ['style'],
    td: ['style'],
    code: ['class'],
  },
  allowedStyles: { '*': { 'text-align': [/^(left|right|center)$/] } },
  allowedClasses: { code: [/^language-[\w-]+$/] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['http', 'https'] },
  allowProtocolRelative: false,
  transformTags: {
    // Links written by posters should not pass our page's authority to others.
    a: (tagName, attribs) => postLink()(tagName, attribs),
  },
};
SANITIZE.allowedAttributes = { ...SANITIZE.allowedAttributes, a: ['href', 'title', 'rel'] };

/** Renders Markdown to HTML that is safe to put into a page as-is. */
export function renderMarkdown(source: string): string {
  return sanitizeHtml(md().render(source), SANITIZE);
}

/** Plain text of some HTML, whitespace collapsed (for excerpts and feeds). */
export function htmlToText(html: string): string {
  return sanitizeHtml(html, { allowedTags: [], allowedAttributes: {} })
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The first sentences of a text, cut at a word boundary, at most `max` characters. */
export function excerptOf(text: string, max = 200): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const lastSpace = cut.lastIndexOf(' ');
  return `${(lastSpace > max / 2 ? cut.slice(0, lastSpace) : cut).replace(/[\s.,;:!?-]+$/, '')}…`;
}

// Comments get a smaller Markdown: no headings, images, tables or rules.
const commentMd = lazily(() =>
  new (libs().MarkdownIt)({ html: false, linkify: true, typographer: true }).disable(['heading', 'lheading', 'image', 'table', 'hr']),
);

const commentLink = lazily(() => libs().sanitizeHtml.simpleTransform('a', { rel: 'nofollow ugc noopener noreferrer' }));
const COMMENT_SANITIZE: sanitizeHtmlType.IOptions = {
  allowedTags: ['p', 'br', 'em', 'strong', 'del', 's', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'a'],
  allowedAttributes: { a: ['href', 'rel'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowProtocolRelative: false,
  transformTags: { a: (tagName, attribs) => commentLink()(tagName, attribs) },
};

/** Renders a comment's Markdown subset to HTML that is safe to put into a page. */
export function renderCommentMarkdown(source: string): string {
  return sanitizeHtml(commentMd().render(source), COMMENT_SANITIZE);
}

/** How many links a piece of rendered HTML contains (for the spam guard). */
export function countLinks(html: string): number {
  return (html.match(/<a\s/g) ?? []).length;
}
