import { Type } from 'typebox';
import { LIMITS } from './media.service.ts';

/**
 * An image's words: PATCH /api/v1/media/{id}, the alt text form of each image on
 * /admin/media, and the text fields of an upload (the API's and the library's form).
 * Multipart fields arrive as text already, which is what these are, so an upload's are
 * checked as they came (checkInput), before the file is stored.
 */
export const MediaTextSchema = Type.Object(
  {
    alt: Type.Optional(Type.String({ maxLength: LIMITS.alt, description: 'Alternative text: what the image shows, for people who cannot see it.' })),
    caption: Type.Optional(Type.String({ maxLength: LIMITS.caption, description: 'Caption shown under the image.' })),
    credit: Type.Optional(Type.String({ maxLength: LIMITS.credit, description: 'Who made the image.' })),
  },
  { additionalProperties: false },
);

/** An upload's text fields, by the schema: its other fields (_csrf, the file's) are not the command's. */
export function uploadText(fields: Record<string, string>): { alt?: string; caption?: string; credit?: string } {
  const { alt, caption, credit } = fields;
  return Object.fromEntries(Object.entries({ alt, caption, credit }).filter(([, v]) => v !== undefined));
}
