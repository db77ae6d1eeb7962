import { xmlEscape as escapeHtml } from '../../lib/html.ts';

// Ghost stores a post as HTML, and as the editor's own document: mobiledoc
// (Ghost 1–4) or lexical (Ghost 5). When the HTML is absent, the document is
// rendered here to HTML (then to Markdown like every import): paragraphs,
// headings, quotes, lists, links, emphasis, code, images, rules, and the
// Markdown and HTML cards. Anything else is reported.

type Json = any;
const attr = (s: string) => escapeHtml(s);

/** Mobiledoc (JSON text) to HTML; `unknown` collects what could not be rendered. */
export function mobiledocToHtml(source: string, unknown: Set<string>): string {
  let doc: Json;
  try {
    doc = JSON.parse(source);
  } catch {
    unknown.add('mobiledoc (not JSON)');
    return '';
  }
  const markups: Json[] = doc.markups ?? [];
  const cards: Json[] = doc.cards ?? [];
  const atoms: Json[] = doc.atoms ?? [];
  const markers = (list: Json[]): string => {
    const open: string[] = [];
    let out = '';
    for (const m of list ?? []) {
      const [type, opens, closes, value] = m;
      for (const i of opens ?? []) {
        const [tag, attrs = []] = markups[i] ?? ['span'];
        let a = '';
        for (let k = 0; k < attrs.length; k += 2) a += ` ${String(attrs[k]).replace(/[^a-z-]/gi, '')}="${attr(String(attrs[k + 1]))}"`;
        const t = String(tag)
          .toLowerCase()
          .replace(/[^a-z0-9]/g, '');
        out += `<${t}${a}>`;
        open.push(t);
      }
      out += type === 1 ? escapeHtml(String(atoms[value]?.[1] ?? '')) : escapeHtml(String(value ?? ''));
      for (let k = 0; k < closes; k++) out += `</${open.pop()}>`;
    }
    while (open.length) out += `</${open.pop()}>`;
    return out;
  };
  const card = (name: string, p: Json): string => {
    switch (name) {
      case 'markdown':
      case 'card-markdown':
        return `<pre data-markdown="1">${escapeHtml(String(p.markdown ?? ''))}</pre>`;
      case 'html':
        return String(p.html ?? '');
      case 'image':
        return `<figure><img src="${attr(String(p.src ?? ''))}" alt="${attr(String(p.alt ?? ''))}">${p.caption ? `<figcaption>${p.caption}</figcaption>` : ''}</figure>`;
      case 'code':
        return `<pre><code${p.language ? ` class="language-${attr(String(p.language))}"` : ''}>${escapeHtml(String(p.code ?? ''))}</code></pre>`;
      case 'hr':
        return '<hr>';
      default:
        unknown.add(`mobiledoc card "${name}"`);
        return '';
    }
  };
  return (doc.sections ?? [])
    .map((s: Json) => {
      switch (s[0]) {
        case 1: {
          const tag = String(s[1]).toLowerCase();
          const t = /^(p|h[1-6]|blockquote|aside)$/.test(tag) ? (tag === 'aside' ? 'blockquote' : tag) : 'p';
          return `<${t}>${markers(s[2])}</${t}>`;
        }
        case 2:
          return `<img src="${attr(String(s[1]))}" alt="">`;
        case 3: {
          const t = s[1] === 'ol' ? 'ol' : 'ul';
          return `<${t}>${(s[2] ?? []).map((li: Json[]) => `<li>${markers(li)}</li>`).join('')}</${t}>`;
        }
        case 10: {
          const c = cards[s[1]];
          return c ? card(String(c[0]), c[1] ?? {}) : '';
        }
        default:
          return '';
      }
    })
    .join('\n');
}

/** Lexical (JSON text) to HTML; `unknown` collects what could not be rendered. */
export function lexicalToHtml(source: string, unknown: Set<string>): string {
  let doc: Json;
  try {
    doc = JSON.parse(source);
  } catch {
    unknown.add('lexical (not JSON)');
    return '';
  }
  const inline = (nodes: Json[]): string =>
    (nodes ?? [])
      .map((n: Json) => {
        switch (n.type) {
          case 'text':
          case 'extended-text': {
            let t = escapeHtml(String(n.text ?? ''));
            const f = Number(n.format ?? 0);
            if (f & 16) t = `<code>${t}</code>`;
            if (f & 1) t = `<strong>${t}</strong>`;
            if (f & 2) t = `<em>${t}</em>`;
            if (f & 4) t = `<s>${t}</s>`;
            return t;
          }
          case 'link':
          case 'autolink':
            return `<a href="${attr(String(n.url ?? ''))}">${inline(n.children)}</a>`;
          case 'linebreak':
            return '<br>';
          default:
            return n.children ? inline(n.children) : '';
        }
      })
      .join('');
  const block = (n: Json): string => {
    switch (n.type) {
      case 'paragraph':
        return `<p>${inline(n.children)}</p>`;
      case 'heading':
      case 'extended-heading': {
        const t = /^h[1-6]$/.test(n.tag) ? n.tag : 'h2';
        return `<${t}>${inline(n.children)}</${t}>`;
      }
      case 'quote':
      case 'aside':
      case 'extended-quote':
        return `<blockquote><p>${inline(n.children)}</p></blockquote>`;
      case 'list': {
        const t = n.listType === 'number' ? 'ol' : 'ul';
        return `<${t}>${(n.children ?? []).map((li: Json) => `<li>${inline(li.children)}</li>`).join('')}</${t}>`;
      }
      case 'codeblock':
      case 'code':
        return `<pre><code${n.language ? ` class="language-${attr(String(n.language))}"` : ''}>${escapeHtml(String(n.code ?? (n.children ? n.children.map((c: Json) => c.text ?? '\n').join('') : '')))}</code></pre>`;
      case 'image':
        return `<figure><img src="${attr(String(n.src ?? ''))}" alt="${attr(String(n.altText ?? n.alt ?? ''))}">${n.caption ? `<figcaption>${n.caption}</figcaption>` : ''}</figure>`;
      case 'horizontalrule':
        return '<hr>';
      case 'markdown':
        return `<pre data-markdown="1">${escapeHtml(String(n.markdown ?? ''))}</pre>`;
      case 'html':
        return String(n.html ?? '');
      default:
        unknown.add(`lexical node "${n.type}"`);
        return n.children ? `<p>${inline(n.children)}</p>` : '';
    }
  };
  return (doc.root?.children ?? []).map(block).join('\n');
}
