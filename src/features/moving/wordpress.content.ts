import type TurndownService from 'turndown';

// WordPress content (classic editor text, block editor markup, shortcodes) to
// the Markdown Inkwell stores. Turndown does the HTML; the rules here cover
// what WordPress emits around it.

/** What converting one post found worth reporting. */
export interface ContentNotes {
  /** Images whose URL still points at the old site (to be downloaded once the media library exists). */
  images: string[];
  /** Shortcodes Inkwell does not know, kept as text, by name. */
  unknownShortcodes: Map<string, number>;
}

const BLOCK = /^<(p|div|h[1-6]|ul|ol|li|blockquote|pre|figure|table|hr|dl|address|section|article|iframe|!--)[\s>/]/i;

/**
 * WordPress stores classic-editor posts without paragraphs: blank lines are
 * paragraphs and single newlines are line breaks (its wpautop()). Chunks that
 * already start with a block element are left alone.
 */
export function autop(text: string): string {
  // Inside <pre>, newlines are the content: keep them out of the splitting.
  const pres: string[] = [];
  const guarded = text.replace(/<pre[\s\S]*?<\/pre>/gi, (m) => `\u0000${pres.push(m) - 1}\u0000`);
  const out = guarded
    .replace(/\r\n/g, '\n')
    .split(/\n\s*\n/)
    .map((chunk) => {
      const c = chunk.trim();
      if (!c) return '';
      if (BLOCK.test(c) || /^\u0000\d+\u0000$/.test(c)) return c;
      return `<p>${c.replace(/\n/g, '<br>\n')}</p>`;
    })
    .join('\n\n');
  return out.replace(/\u0000(\d+)\u0000/g, (_m, i) => pres[Number(i)]);
}

const attr = (attrs: string, name: string) =>
  new RegExp(`\\b${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s\\]]+))`, 'i')
    .exec(attrs)
    ?.slice(1)
    .find((v) => v !== undefined);

/**
 * Expands the shortcodes WordPress itself ships ([caption], [gallery], [embed],
 * [audio]/[video] by their src) into HTML; any other shortcode is kept as text
 * and counted.
 */
export function expandShortcodes(content: string, attachments: Map<string, string>, notes: ContentNotes): string {
  let out = content.replace(/\[caption([^\]]*)\]([\s\S]*?)\[\/caption\]/gi, (_m, _attrs: string, inner: string) => {
    const media = /^\s*((?:<a[^>]*>\s*)?<img[^>]*>(?:\s*<\/a>)?)/i.exec(inner);
    const caption = media ? inner.slice(media[0].length).trim() : inner.trim();
    return `<figure>${media ? media[1] : ''}<figcaption>${caption}</figcaption></figure>`;
  });
  out = out.replace(/\[gallery([^\]]*)\]/gi, (_m, attrs: string) => {
    const ids = (attr(attrs, 'ids') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const imgs = ids.map((id) => attachments.get(id)).filter((u): u is string => !!u);
    return imgs.length ? `<p>${imgs.map((u) => `<img src="${u.replace(/"/g, '&quot;')}" alt="">`).join(' ')}</p>` : '';
  });
  out = out.replace(/\[embed[^\]]*\]([\s\S]*?)\[\/embed\]/gi, (_m, url: string) => `<p><a href="${url.trim()}">${url.trim()}</a></p>`);
  out = out.replace(/\[(audio|video)([^\]]*)\](?:\[\/\1\])?/gi, (_m, kind: string, attrs: string) => {
    const src = attr(attrs, 'src') ?? attr(attrs, 'mp3') ?? attr(attrs, 'mp4');
    return src ? `<p><a href="${src}">${kind}: ${src}</a></p>` : '';
  });
  // Anything else that looks like a shortcode stays as text; [1] and [x] in prose are not shortcodes.
  for (const m of out.matchAll(/\[([a-z][a-z0-9_-]{1,40})(?:\s[^\]]*)?\]/gi)) {
    notes.unknownShortcodes.set(m[1].toLowerCase(), (notes.unknownShortcodes.get(m[1].toLowerCase()) ?? 0) + 1);
  }
  return out;
}

/** A Turndown set up for what WordPress emits. */
export async function createConverter(): Promise<TurndownService> {
  // Loaded by the first import: Turndown brings a DOM implementation (~50 modules, ~3 MB).
  const { default: TurndownService } = await import('turndown');
  const td = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced', bulletListMarker: '-', emDelimiter: '*', hr: '---' });
  td.remove(['script', 'style', 'noscript']);
  // "- item", not Turndown's "-   item": what people write by hand, and what markdown-it reads the same.
  td.addRule('list-item', {
    filter: 'li',
    replacement: (content, node, options) => {
      const parent = node.parentNode as HTMLElement | null;
      let prefix = `${options.bulletListMarker} `;
      if (parent?.nodeName === 'OL') {
        const start = Number(parent.getAttribute('start') ?? 1);
        prefix = `${start + Array.prototype.indexOf.call(parent.children, node)}. `;
      }
      const body = content
        .replace(/^\n+/, '')
        .replace(/\n+$/, '\n')
        .replace(/\n/gm, `\n${' '.repeat(prefix.length)}`);
      return prefix + body + (node.nextSibling && !/\n$/.test(body) ? '\n' : '');
    },
  });
  // Inkwell renders # as <h2> (the title is the page's <h1>): a source <h2> becomes
  // #, so it is an <h2> again; <h1> in a body joins it.
  td.addRule('heading', {
    filter: ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'],
    replacement: (content, node) => {
      const level = Math.max(Number(node.nodeName.charAt(1)) - 1, 1);
      return `\n\n${'#'.repeat(level)} ${content.replace(/\s*\n\s*/g, ' ').trim()}\n\n`;
    },
  });
  td.addRule('figure', {
    filter: 'figure',
    replacement: (content) => `\n\n${content.trim()}\n\n`,
  });
  td.addRule('figcaption', {
    filter: 'figcaption',
    replacement: (content) => (content.trim() ? `\n\n*${content.trim()}*` : ''),
  });
  // <pre> without <code> (the preformatted and verse blocks) is still a code block.
  td.addRule('bare-pre', {
    filter: (node) => node.nodeName === 'PRE' && !node.querySelector('code'),
    replacement: (_content, node) => `\n\n\`\`\`\n${(node.textContent ?? '').replace(/\n$/, '')}\n\`\`\`\n\n`,
  });
  // Rules added later win (Turndown tries them newest first): this one must follow bare-pre.
  // Ghost's Markdown cards are Markdown already: kept as written.
  td.addRule('markdown-card', {
    filter: (node) => node.nodeName === 'PRE' && node.getAttribute('data-markdown') === '1',
    replacement: (_content, node) => `\n\n${(node.textContent ?? '').trim()}\n\n`,
  });
  // Embeds (YouTube and friends) become a link to what they showed.
  td.addRule('iframe', {
    filter: 'iframe',
    replacement: (_content, node) => {
      const src = (node as HTMLElement).getAttribute('src');
      return src && /^https?:/i.test(src) ? `\n\n[${src}](${src})\n\n` : '';
    },
  });
  return td;
}

/** One post's WordPress content as Markdown, with what is worth reporting. */
export function wordpressToMarkdown(td: TurndownService, content: string, attachments: Map<string, string>, notes: ContentNotes): string {
  // Block editor comments carry settings, never content.
  const stripped = content.replace(/<!--\s*\/?wp:[\s\S]*?-->/g, '');
  return htmlToMarkdown(td, autop(expandShortcodes(stripped, attachments, notes)), notes);
}

/** Well-formed HTML (Ghost's) as Markdown, counting its images. */
export function htmlToMarkdown(td: TurndownService, html: string, notes: ContentNotes): string {
  // Every image not inline (data:) still lives on the old site.
  for (const m of html.matchAll(/<img\b[^>]*\bsrc\s*=\s*["']([^"']+)["']/gi)) if (!/^data:/i.test(m[1])) notes.images.push(m[1]);
  return td.turndown(html).trim();
}
