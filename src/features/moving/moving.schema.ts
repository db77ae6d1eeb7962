import { Type } from 'typebox';

/** What an old site's address must be (the schema's pattern, and isSiteUrl's rule). */
export const SITE_URL_MESSAGE = 'must be an http(s) address such as https://old.example';

/**
 * Start an import from /admin/import: the form's text fields. The export file comes in
 * the same multipart body but is no field of this schema: it is stored to disk as it
 * arrives, and the route checks that it came. Multipart fields are text already, so they
 * are checked as they came (checkInput), not coerced as an urlencoded form is.
 */
export const ImportStartSchema = Type.Object(
  {
    format: Type.Union([Type.Literal('wordpress'), Type.Literal('ghost')], { errorMessage: 'must be WordPress or Ghost' }),
    /** Where the old site's own images are downloaded from (Ghost writes them as __GHOST_URL__/…); isSiteUrl checks the rest. */
    site_url: Type.Optional(Type.String({ maxLength: 500, pattern: '^https?://', errorMessage: SITE_URL_MESSAGE })),
  },
  { additionalProperties: false },
);
