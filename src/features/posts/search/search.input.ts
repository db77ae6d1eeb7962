import { AppError } from '../../../platform/errors.ts';

/** Longest query accepted, in characters; longer ones are a 422 naming `q` (never silently cut). */
export const MAX_QUERY_LENGTH = 200;
/** Words of a query that count; the rest are ignored (every word must match, so more only narrow). */
export const MAX_TERMS = 16;
/** Deepest result reachable by paging: relevance order has no keyset, so pages are offsets. */
export const MAX_OFFSET = 1000;

// A word is a run of letters, digits and combining marks. Everything else
// (quotes, * ^ : - + ( ), NEAR/AND/OR as operators, SQL) only separates words,
// so no user text ever reaches the engine's query syntax.
const WORD = /[\p{L}\p{N}\p{M}]+/gu;

const invalid = (message: string) => new AppError('validation_failed', `The search query ${message}`, [{ field: 'q', message }]);

/**
 * Splits a reader's query into words (lower-cased, deduplicated, at most MAX_TERMS).
 * Throws validation_failed (field `q`) when it is too long or has no word at all.
 */
export function searchTerms(raw: string): string[] {
  if (raw.length > MAX_QUERY_LENGTH) throw invalid(`must be at most ${MAX_QUERY_LENGTH} characters`);
  const words = raw.normalize('NFKC').toLowerCase().match(WORD) ?? [];
  const terms = [...new Set(words)].slice(0, MAX_TERMS);
  if (terms.length === 0) throw invalid('needs at least one word (letters or digits)');
  return terms;
}

/** The opaque `before` cursor of a search page: where the next page starts. */
export function encodeSearchCursor(offset: number): string {
  return Buffer.from(`search:${offset}`).toString('base64url');
}

/** Decodes a search cursor, or returns null when it is not one we made. */
export function decodeSearchCursor(raw: string): number | null {
  if (raw.length > 40) return null;
  const m = /^search:(\d{1,4})$/.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  const offset = m ? Number(m[1]) : NaN;
  return offset >= 0 && offset <= MAX_OFFSET ? offset : null;
}
