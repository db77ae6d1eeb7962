import { Type } from 'typebox';
import { MESSAGES, NOT_BLANK } from '../../platform/http/input.ts';

/** Adding a redirect by hand: one schema for the API and the admin form. */
export const RedirectCreateSchema = Type.Object(
  {
    from: Type.String({ maxLength: 500, pattern: NOT_BLANK, errorMessage: MESSAGES.blank, description: 'The old path on this site, starting with /.' }),
    to: Type.String({ maxLength: 500, pattern: NOT_BLANK, errorMessage: MESSAGES.blank, description: 'A path on this site or an http(s) address.' }),
    status: Type.Optional(Type.Union([Type.Literal(301), Type.Literal(302)], { description: 'Defaults to 301.' })),
  },
  { additionalProperties: false },
);
