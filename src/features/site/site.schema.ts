import { type Static, Type } from 'typebox';
import { MESSAGES, NOT_BLANK } from '../../platform/http/input.ts';

export const SIGNUP_ROLES = ['reader', 'author'] as const;
export const COMMENTING = ['signed-in', 'verified', 'nobody'] as const;
export const SIGNUP_MODES = ['open', 'invite', 'closed'] as const;
export const LIMITS = { name: 100, description: 300, footerText: 500, links: 20, label: 60, url: 500, postsPerPage: 100 };

// A link as a change sends it. The form writes a list of them one a line,
// "Label | https://…" (the label may hold a "|"; the address follows the last).
// Its label's length and its address are the service's to check, so that each
// refusal names the link ("link 2 needs …") on the list's field, in the API and
// beside the form's textarea alike.
const LinkInput = Type.Object(
  {
    label: Type.String({ description: `The text shown: 1 to ${LIMITS.label} characters.` }),
    url: Type.String({ description: `An http(s) URL (the menu also takes a path such as /pages/about), at most ${LIMITS.url} characters.` }),
  },
  { additionalProperties: false, 'x-form-separator': '|' },
);
const linkList = (description: string) => Type.Optional(Type.Array(LinkInput, { maxItems: LIMITS.links, 'x-form-separator': '\n', description }));
const mediaId = (description: string) => Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()], { description }));

/**
 * A change to the site settings (PATCH /api/v1/site and the /admin/site form):
 * any subset; the rest stay as they are. Text may come with spaces around it
 * (they are trimmed). What the schema cannot say (a time zone that exists, an
 * image in the library, each link) the service checks, and one answer names
 * every wrong field (checkPatch).
 */
export const SitePatchSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: LIMITS.name, pattern: NOT_BLANK, errorMessage: MESSAGES.blank })),
    description: Type.Optional(Type.String({ maxLength: LIMITS.description })),
    logoId: mediaId('A media id from the library; null (or empty) removes the logo.'),
    faviconId: mediaId('A media id from the library; null (or empty) removes the icon.'),
    accentColor: Type.Optional(Type.String({ pattern: '^\\s*#[0-9A-Fa-f]{6}\\s*$', errorMessage: 'must be a colour like #2451b7', description: '#rrggbb' })),
    language: Type.Optional(
      Type.String({
        maxLength: 35,
        pattern: '^\\s*[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*\\s*$',
        errorMessage: 'must be a language tag such as en, de or pt-BR',
        description: 'A BCP 47 tag.',
      }),
    ),
    timeZone: Type.Optional(Type.String({ maxLength: 100, description: 'An IANA time zone such as UTC or Europe/Berlin.' })),
    postsPerPage: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.postsPerPage })),
    footerText: Type.Optional(Type.String({ maxLength: LIMITS.footerText })),
    socialLinks: linkList('Links in the footer (rel=me).'),
    navigation: linkList("The header's menu, in order."),
    signupMode: Type.Optional(Type.Enum([...SIGNUP_MODES])),
    signupRole: Type.Optional(Type.Enum([...SIGNUP_ROLES])),
    commenting: Type.Optional(Type.Enum([...COMMENTING])),
  },
  { additionalProperties: false, description: 'Any subset of the settings; the rest stay as they are.' },
);
export type SitePatch = Static<typeof SitePatchSchema>;
