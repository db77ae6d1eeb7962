import { createReadStream } from 'node:fs';
import { ImportRefused } from './moving.errors.ts';

// The WordPress eXtended RSS export (WXR), read as a stream: elements are
// gathered one <item> at a time, so a 500 MB export never sits in memory.

export interface WxrAuthor {
  login: string;
  email: string;
  displayName: string;
}
export interface WxrTerm {
  domain: string;
  nicename: string;
  name: string;
}
export interface WxrComment {
  id: string;
  author: string;
  authorEmail: string;
  /** GMT, "YYYY-MM-DD HH:MM:SS". */
  dateGmt: string;
  date: string;
  content: string;
  /** '1' approved, '0' pending, 'spam', 'trash'. */
  approved: string;
  /** '' or 'comment' for comments; 'pingback', 'trackback' otherwise. */
  type: string;
  parent: string;
  userId: string;
}
export interface WxrItem {
  title: string;
  link: string;
  guid: string;
  creator: string;
  content: string;
  excerpt: string;
  postId: string;
  dateGmt: string;
  date: string;
  modifiedGmt: string;
  postName: string;
  status: string;
  postType: string;
  attachmentUrl: string;
  terms: WxrTerm[];
  meta: Record<string, string>;
  comments: WxrComment[];
}

/** What a reader hands on, in document order. */
export interface WxrHandlers {
  author?(a: WxrAuthor): void | Promise<void>;
  item?(i: WxrItem): void | Promise<void>;
}

const NAMESPACES = /^http:\/\/wordpress\.org\/export\/1\.[12]\/$/;
// One field larger than this is not a blog post: it is an attack or a broken file.
const MAX_FIELD = 16 * 1024 * 1024;

const emptyItem = (): WxrItem => ({
  title: '',
  link: '',
  guid: '',
  creator: '',
  content: '',
  excerpt: '',
  postId: '',
  dateGmt: '',
  date: '',
  modifiedGmt: '',
  postName: '',
  status: '',
  postType: '',
  attachmentUrl: '',
  terms: [],
  meta: {},
  comments: [],
});
const emptyComment = (): WxrComment => ({
  id: '',
  author: '',
  authorEmail: '',
  dateGmt: '',
  date: '',
  content: '',
  approved: '',
  type: '',
  parent: '',
  userId: '',
});

/**
 * Reads a WXR file from start to end, calling the handlers for each author and
 * item. Throws ImportRefused for anything that is not a well-formed WXR 1.1 or
 * 1.2 document: broken XML, a DOCTYPE (entity declarations can expand a small
 * file into gigabytes, or read local files: none is ever honoured), another format.
 */
export async function readWxr(path: string, handlers: WxrHandlers, onBytes?: (n: number) => void): Promise<{ version: string; items: number }> {
  // No entity is ever expanded beyond XML's five; a DOCTYPE is refused outright.
  // Loaded by the first WordPress import, not at start.
  const { SaxesParser } = await import('saxes');
  const parser = new SaxesParser({ xmlns: false, position: true });
  const stack: string[] = [];
  let text = '';
  let item: WxrItem | null = null;
  let comment: WxrComment | null = null;
  let author: WxrAuthor | null = null;
  let term: WxrTerm | null = null;
  let metaKey = '';
  let version = '';
  let namespaceOk = false;
  let items = 0;
  const ready: (() => void | Promise<void>)[] = [];
  let failure: Error | null = null;

  const refuse = (message: string) => {
    throw new ImportRefused(message);
  };
  parser.on('doctype', () =>
    refuse('the file declares a DOCTYPE; a WordPress export has none, and entity declarations are refused (they can expand or read files)'),
  );
  parser.on('error', (e) => {
    failure ??= new ImportRefused(`the file is not well-formed XML: ${e.message}`);
  });
  parser.on('opentag', (tag) => {
    const name = tag.name;
    if (stack.length === 0) {
      if (name !== 'rss') refuse(`this is not a WordPress export: the document is <${name}>, not <rss>`);
      namespaceOk = Object.entries(tag.attributes).some(([k, v]) => k === 'xmlns:wp' && NAMESPACES.test(String(v)));
      if (!namespaceOk) refuse('this is not a WordPress export (WXR 1.1 or 1.2): the wp namespace is missing or of another version');
    }
    stack.push(name);
    text = '';
    if (name === 'item') item = emptyItem();
    else if (name === 'wp:comment' && item) comment = emptyComment();
    else if (name === 'wp:author' && !item) author = { login: '', email: '', displayName: '' };
    else if (name === 'category' && item)
      term = { domain: String(tag.attributes.domain ?? 'category'), nicename: String(tag.attributes.nicename ?? ''), name: '' };
  });
  const onText = (t: string) => {
    if (text.length + t.length > MAX_FIELD) refuse(`an element near line ${parser.line} is larger than ${MAX_FIELD / 1024 / 1024} MB`);
    text += t;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', (tag) => {
    const name = tag.name;
    stack.pop();
    const value = text;
    text = '';
    if (comment) {
      switch (name) {
        case 'wp:comment_id':
          comment.id = value.trim();
          break;
        case 'wp:comment_author':
          comment.author = value.trim();
          break;
        case 'wp:comment_author_email':
          comment.authorEmail = value.trim();
          break;
        case 'wp:comment_date_gmt':
          comment.dateGmt = value.trim();
          break;
        case 'wp:comment_date':
          comment.date = value.trim();
          break;
        case 'wp:comment_content':
          comment.content = value;
          break;
        case 'wp:comment_approved':
          comment.approved = value.trim();
          break;
        case 'wp:comment_type':
          comment.type = value.trim();
          break;
        case 'wp:comment_parent':
          comment.parent = value.trim();
          break;
        case 'wp:comment_user_id':
          comment.userId = value.trim();
          break;
        case 'wp:comment':
          item!.comments.push(comment);
          comment = null;
          break;
      }
      return;
    }
    if (item) {
      switch (name) {
        case 'title':
          item.title = value.trim();
          break;
        case 'link':
          item.link = value.trim();
          break;
        case 'guid':
          item.guid = value.trim();
          break;
        case 'dc:creator':
          item.creator = value.trim();
          break;
        case 'content:encoded':
          item.content = value;
          break;
        case 'excerpt:encoded':
          item.excerpt = value.trim();
          break;
        case 'wp:post_id':
          item.postId = value.trim();
          break;
        case 'wp:post_date_gmt':
          item.dateGmt = value.trim();
          break;
        case 'wp:post_date':
          item.date = value.trim();
          break;
        case 'wp:post_modified_gmt':
          item.modifiedGmt = value.trim();
          break;
        case 'wp:post_name':
          item.postName = value.trim();
          break;
        case 'wp:status':
          item.status = value.trim();
          break;
        case 'wp:post_type':
          item.postType = value.trim();
          break;
        case 'wp:attachment_url':
          item.attachmentUrl = value.trim();
          break;
        case 'wp:meta_key':
          metaKey = value.trim();
          break;
        case 'wp:meta_value':
          if (metaKey) item.meta[metaKey] = value;
          metaKey = '';
          break;
        case 'category':
          if (term) {
            term.name = value.trim();
            item.terms.push(term);
            term = null;
          }
          break;
        case 'item': {
          const done = item;
          item = null;
          items += 1;
          if (handlers.item) ready.push(() => handlers.item!(done));
          break;
        }
      }
      return;
    }
    if (author) {
      switch (name) {
        case 'wp:author_login':
          author.login = value.trim();
          break;
        case 'wp:author_email':
          author.email = value.trim();
          break;
        case 'wp:author_display_name':
          author.displayName = value.trim();
          break;
        case 'wp:author': {
          const done = author;
          author = null;
          if (handlers.author) ready.push(() => handlers.author!(done));
          break;
        }
      }
      return;
    }
    if (name === 'wp:wxr_version') version = value.trim();
  });

  // A decoding stream, so a character split across two chunks arrives whole.
  const stream = createReadStream(path, { highWaterMark: 64 * 1024, encoding: 'utf8' });
  try {
    for await (const chunk of stream) {
      onBytes?.(Buffer.byteLength(chunk as string));
      try {
        parser.write(chunk as string);
      } catch (e) {
        throw e instanceof ImportRefused ? e : new ImportRefused(`the file is not well-formed XML: ${(e as Error).message}`);
      }
      if (failure) throw failure;
      // Handlers run between chunks, one at a time, while the stream waits.
      while (ready.length) await ready.shift()!();
    }
    try {
      parser.close();
    } catch (e) {
      throw e instanceof ImportRefused ? e : new ImportRefused(`the file is not well-formed XML: ${(e as Error).message}`);
    }
    if (failure) throw failure;
    while (ready.length) await ready.shift()!();
  } finally {
    stream.destroy();
  }
  if (!namespaceOk) throw new ImportRefused('this is not a WordPress export: the file has no <rss> document');
  if (version && !/^1\.[12]$/.test(version)) throw new ImportRefused(`this WordPress export is WXR ${version}; Inkwell reads WXR 1.1 and 1.2`);
  return { version, items };
}
