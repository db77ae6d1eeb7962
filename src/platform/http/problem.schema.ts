import { Type } from 'typebox';

/** RFC 9457 problem details, as every API error is sent. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'Always about:blank; use `code` to tell errors apart.' }),
    title: Type.String({ description: 'Short summary of the kind of error.' }),
    status: Type.Integer({ description: 'The HTTP status code.' }),
    code: Type.String({ description: 'Stable machine-readable error code, e.g. validation_failed, slug_taken.' }),
    detail: Type.String({ description: 'What went wrong in this case.' }),
    instance: Type.String({ description: 'The request path.' }),
    errors: Type.Optional(
      Type.Array(
        Type.Object({
          field: Type.String({ description: 'The field, e.g. title or tags.0.' }),
          message: Type.String({ description: 'What is wrong with it.' }),
        }),
        { description: 'For validation_failed: every failing field.' },
      ),
    ),
  },
  { $id: 'Problem', description: 'An error (application/problem+json).' },
);

const WHY: Record<number, string> = {
  400: 'Malformed JSON, JSON nested too deeply, NUL characters, or a bad cursor; `errors` names the body',
  401: 'No or invalid credentials',
  403: 'Not allowed (role, ownership, token scope or CSRF)',
  404: 'Not found',
  409: 'Conflict: the slug or name is taken',
  413: 'Body over 1 MiB',
  415: 'Body is neither JSON nor a form',
  422: 'Invalid or unknown fields; `errors` lists each one',
  429: 'Rate limited; see Retry-After',
};

/** Error responses an endpoint documents, by status. */
export function problems(...statuses: number[]): Record<number, unknown> {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      {
        description: WHY[s] ?? 'Error',
        content: { 'application/problem+json': { schema: { $ref: 'Problem#' } } },
      },
    ]),
  );
}
