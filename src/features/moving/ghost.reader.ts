import { createReadStream } from 'node:fs';
import { ImportRefused } from './moving.errors.ts';

// A Ghost export is one JSON document, often hundreds of MB (post revisions,
// members, emails). It is read as a stream, never whole: the parser keeps only
// the value being built under a wanted path, and drops every finished value it
// was not asked for (keepStack: false), so memory holds one post at a time plus
// the small tables (users, tags and the links between them).

/** A row of the export, as Ghost wrote it. */
export type GhostRow = Record<string, unknown>;

/** The small tables, read whole in the first pass. */
export interface GhostRelations {
  users: GhostRow[];
  tags: GhostRow[];
  postsTags: GhostRow[];
  postsAuthors: GhostRow[];
  /** How many posts and pages the export holds. */
  postCount: number;
}

// Ghost wraps the data in db[0] (and older versions in data directly).
const ROOTS = ['$.db.*.data', '$.data'];
const TABLES = { users: 'users', tags: 'tags', postsTags: 'posts_tags', postsAuthors: 'posts_authors' } as const;

/**
 * Streams the export at `path` through a parser that emits the values at
 * `paths`, handing each to `onValue` (awaited: the file is read no faster than
 * the values are handled; a value answered with false ends the reading).
 * ImportRefused for anything that is not JSON.
 */
async function stream(path: string, paths: string[], onValue: (value: unknown, path: string) => unknown): Promise<void> {
  // Loaded by the first Ghost import, not at start.
  const { JSONParser } = await import('@streamparser/json');
  const parser = new JSONParser({ paths, keepStack: false });
  let pending: { value: unknown; at: string }[] = [];
  let broken: Error | null = null;
  parser.onError = (e) => {
    broken ??= e;
  };
  parser.onValue = ({ value, key, stack }) => {
    // The path of the emitted value, from the keys on the stack (numbers are array positions).
    const at = [...stack.slice(1).map((s) => s.key), key].map((k) => (typeof k === 'number' ? '*' : k)).join('.');
    pending.push({ value, at });
  };
  const refuse = (e: Error) => new ImportRefused(`the file is not JSON: ${e.message}`);
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 })) {
    parser.write(chunk as Buffer);
    if (broken) throw refuse(broken);
    const ready = pending;
    pending = [];
    // onValue answers false once it has all it wants: the rest of the file is not read (nor checked).
    for (const v of ready) if ((await onValue(v.value, v.at)) === false) return;
  }
  if (!parser.isEnded) parser.end();
  if (broken) throw refuse(broken);
  for (const v of pending) await onValue(v.value, v.at);
}

const table = (at: string) => at.split('.').at(-2) ?? '';
const isRow = (v: unknown): v is GhostRow => !!v && typeof v === 'object' && !Array.isArray(v);

/** Pass one: checks the whole file and reads the small tables; ImportRefused for a file that is not a Ghost export. */
export async function readGhostRelations(path: string): Promise<GhostRelations> {
  const out: GhostRelations = { users: [], tags: [], postsTags: [], postsAuthors: [], postCount: 0 };
  let meta = false;
  const paths = ['$.db.*.meta', '$.meta', ...ROOTS.flatMap((r) => ['posts', ...Object.values(TABLES)].map((t) => `${r}.${t}.*`))];
  await stream(path, paths, (value, at) => {
    if (at.endsWith('meta')) {
      meta = isRow(value);
      return;
    }
    if (!isRow(value)) return;
    const t = table(at);
    if (t === 'posts') out.postCount += 1;
    else for (const [k, name] of Object.entries(TABLES)) if (name === t) out[k as keyof typeof TABLES].push(value);
  });
  if (!meta && out.postCount === 0) throw new ImportRefused('this is not a Ghost export: no db[0].data.posts');
  return out;
}

/**
 * Pass two: each post (and page) of the export in turn, handed to `onPost`
 * before the next one is read. Reading stops after the `count` posts pass one
 * found (Ghost writes posts first; the tables after them are not parsed again).
 */
export async function eachGhostPost(path: string, count: number, onPost: (post: GhostRow) => Promise<void>): Promise<void> {
  let seen = 0;
  if (count === 0) return;
  await stream(
    path,
    ROOTS.map((r) => `${r}.posts.*`),
    async (value) => {
      if (!isRow(value)) return;
      await onPost(value);
      seen += 1;
      return seen < count;
    },
  );
}
