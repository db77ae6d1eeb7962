import { Type } from 'typebox';
import { LIMITS } from './galleries.service.ts';

/**
 * Make or replace a gallery: POST and PUT /api/v1/galleries, and the form on
 * /admin/galleries, which writes the items as a ticked box, a place and a caption
 * per image (use_<id>, order_<id>, caption_<id>) and is read into this command
 * (galleries.admin.ts) before the same check.
 */
export const GalleryInputSchema = Type.Object(
  {
    title: Type.String({ maxLength: LIMITS.title, description: 'Title; must not be blank.' }),
    slug: Type.Optional(Type.String({ maxLength: LIMITS.slug, description: 'Lowercase letters, digits and hyphens; derived from the title when omitted.' })),
    description: Type.Optional(Type.String({ maxLength: LIMITS.description, description: 'Plain text.' })),
    items: Type.Array(
      Type.Object(
        {
          mediaId: Type.String({ maxLength: 40, description: 'The id of an uploaded image; an unknown one is a 422.' }),
          caption: Type.Optional(Type.String({ maxLength: LIMITS.caption, description: "Caption; empty for the image's own." })),
        },
        { additionalProperties: false },
      ),
      { maxItems: LIMITS.items, description: 'The images, in order.' },
    ),
  },
  { additionalProperties: false },
);
