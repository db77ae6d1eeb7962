import { Type } from 'typebox';
import { MESSAGES, NOT_BLANK } from '../../platform/http/input.ts';
import { LIMITS, MODERATION_MODES } from './comments.service.ts';

// The commands on comments: one schema each, for the API and the HTML forms alike.

const Body = Type.String({
  maxLength: LIMITS.body,
  pattern: NOT_BLANK,
  errorMessage: MESSAGES.blank,
  description: `Markdown subset; must not be blank; at most ${LIMITS.links} links.`,
});

export const CommentCreateSchema = Type.Object(
  { body: Body, parentId: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647, description: 'The comment answered.' })) },
  { additionalProperties: false },
);

export const CommentEditSchema = Type.Object({ body: Body }, { additionalProperties: false });

/** Hiding a comment (or showing it again): hidden unless told otherwise. */
export const CommentHideSchema = Type.Object({ hidden: Type.Optional(Type.Boolean({ default: true })) }, { additionalProperties: false });

/** The moderation mode (admin). */
export const ModerationModeSchema = Type.Object({ mode: Type.Enum([...MODERATION_MODES]) }, { additionalProperties: false });
