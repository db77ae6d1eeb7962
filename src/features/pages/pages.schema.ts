import { Type } from 'typebox';
import { MESSAGES, NOT_BLANK } from '../../platform/http/input.ts';
import { LIMITS } from './pages.service.ts';

/**
 * Writing a page (create, or change only what is given): one schema for the API
 * and the editor's form. A new page needs a title (the service says so).
 */
export const PageInputSchema = Type.Object(
  {
    title: Type.Optional(Type.String({ maxLength: LIMITS.title, pattern: NOT_BLANK, errorMessage: MESSAGES.blank, description: 'Required for a new page.' })),
    slug: Type.Optional(
      Type.String({
        maxLength: LIMITS.slug,
        pattern: '^\\s*([a-z0-9]+(-[a-z0-9]+)*)?\\s*$',
        errorMessage: 'may use lowercase letters, digits and single hyphens',
        description: 'Made from the title when absent or empty.',
      }),
    ),
    body: Type.Optional(Type.String({ maxLength: LIMITS.body })),
    description: Type.Optional(Type.String({ maxLength: LIMITS.description })),
    imageId: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()], { description: 'A media id; null (or empty) removes it.' })),
    status: Type.Optional(Type.Enum(['draft', 'published'])),
  },
  { additionalProperties: false },
);
