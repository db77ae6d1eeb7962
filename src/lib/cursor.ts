/**
 * Keyset-pagination cursors: an opaque, URL-safe encoding of the sort key of
 * the last row shown (published_at, id). Opaque so clients don't build them.
 */
export interface Cursor {
  at: string;
  id: number;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.at}|${c.id}`).toString('base64url');
}

/** Decodes a cursor, or returns null when it is not one we made. */
export function decodeCursor(raw: string): Cursor | null {
  if (raw.length > 100) return null;
  const text = Buffer.from(raw, 'base64url').toString('utf8');
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z)\|(\d{1,9})$/.exec(text);
  if (!m || Number.isNaN(Date.parse(m[1]))) return null;
  return { at: m[1], id: Number(m[2]) };
}
