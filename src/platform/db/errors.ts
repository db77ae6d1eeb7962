/** True when a write failed on a UNIQUE constraint (SQLite or PostgreSQL). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errcode?: number; message?: string };
  return e?.code === '23505' || e?.errcode === 2067 || e?.errcode === 1555 || /UNIQUE constraint failed/.test(e?.message ?? '');
}

// Node's socket errors, and PostgreSQL's connection-exception class (08) and
// shutdown codes (57P01 admin, 57P02 crash, 57P03 cannot connect now).
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
]);

/** True when a query failed because the database could not be reached (an outage, a restart), not because of the query. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (typeof e?.code === 'string' && (CONNECTION_CODES.has(e.code) || /^08/.test(e.code))) return true;
  return /^Connection terminated|^terminating connection|^Client has encountered a connection error|timeout exceeded when trying to connect/.test(
    e?.message ?? '',
  );
}
