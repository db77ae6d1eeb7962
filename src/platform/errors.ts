/**
 * The one catalogue of application errors. Each has a stable `code` (clients
 * may switch on it), an HTTP status and a message that is safe to show.
 * The HTTP layer (platform/http/errors.ts) turns them into problem+json or a page.
 */
export const ERRORS = {
  validation_failed: { status: 422, title: 'Some fields are invalid' },
  malformed_json: { status: 400, title: 'The request body is not valid JSON' },
  bad_request: { status: 400, title: 'Bad request' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  invalid_credentials: { status: 401, title: 'Email or password is incorrect' },
  forbidden: { status: 403, title: 'You are not allowed to do this' },
  csrf_failed: { status: 403, title: 'The form has expired or was not sent by this site; reload the page and try again' },
  insufficient_scope: { status: 403, title: 'This token lacks the scope needed' },
  email_unverified: { status: 403, title: 'Verify your email address first' },
  signup_closed: { status: 403, title: 'This blog is not taking new sign-ups' },
  account_suspended: { status: 403, title: 'This account is suspended' },
  token_invalid: { status: 400, title: 'This link is invalid, expired or already used' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  slug_taken: { status: 409, title: 'That slug is already used by another post' },
  conflict: { status: 409, title: 'Conflict' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported content type' },
  rate_limited: { status: 429, title: 'Too many requests; try again later' },
  internal: { status: 500, title: 'Something went wrong on our side' },
  unavailable: { status: 503, title: 'Service unavailable' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** One problem with one input field, shown beside it in forms and listed in problem+json. */
export interface FieldError {
  field: string;
  message: string;
}

/** A typed application error; services throw these, the HTTP layer presents them. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly errors: FieldError[];

  constructor(code: ErrorCode, detail?: string, errors: FieldError[] = []) {
    super(detail ?? ERRORS[code].title);
    this.code = code;
    this.status = ERRORS[code].status;
    this.errors = errors;
  }
}

/** Throws validation_failed when any field failed; no-op otherwise. */
export function assertValid(errors: FieldError[]): void {
  if (errors.length > 0) throw new AppError('validation_failed', undefined, errors);
}
