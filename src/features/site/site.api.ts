import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireAdmin } from '../../platform/http/auth.ts';
import { readPatch } from '../../platform/http/input.ts';
import { problems } from '../../platform/http/problem.schema.ts';
import { COMMENTING, LIMITS, SIGNUP_MODES, SIGNUP_ROLES, SitePatchSchema } from './site.schema.ts';
import type { SiteSettingsService } from './site.settings.ts';

const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { cookieAuth: [] }];
const Link = Type.Object(
  {
    label: Type.String({ maxLength: LIMITS.label, description: 'The text shown.' }),
    url: Type.String({ maxLength: LIMITS.url, description: 'An http(s) URL (the menu also takes a path such as /pages/about).' }),
  },
  { additionalProperties: false },
);
const Image = Type.Union([Type.Object({ id: Type.String({ description: 'Media id.' }), url: Type.String({ description: 'Its public URL.' }) }), Type.Null()]);

const SiteSchema = Type.Object(
  {
    name: Type.String({ description: "The blog's name: page titles, the header, feeds, emails, the API document." }),
    description: Type.String({ description: "One or two sentences: the front page's meta description, the feeds' description and subtitle." }),
    logo: Type.Union([Image], { description: 'Shown in the header and on sharing cards.' }),
    favicon: Type.Union([Image], { description: "The browser tab's icon and the feeds' icon." }),
    accentColor: Type.String({ description: 'Links and buttons, as #rrggbb.' }),
    language: Type.String({ description: 'BCP 47 tag for <html lang> and the feeds.' }),
    timeZone: Type.String({ description: 'IANA time zone: the daily digest goes out at 08:00 there.' }),
    postsPerPage: Type.Integer({ description: 'Posts on each page of the front page and lists.' }),
    footerText: Type.String({ description: "A line of text in every page's footer." }),
    socialLinks: Type.Array(Link, { description: 'Links in the footer (rel=me).' }),
    navigation: Type.Array(Link, { description: "The header's menu, in order." }),
    signupMode: Type.Enum([...SIGNUP_MODES], { description: 'Who may sign up: anyone, by invitation, nobody.' }),
    signupRole: Type.Enum([...SIGNUP_ROLES], {
      description: 'The role an open sign-up gets (invitations name their own). The RealWorld adapter always registers authors.',
    }),
    commenting: Type.Enum([...COMMENTING], { description: 'Who may comment: any signed-in account, verified accounts, nobody.' }),
  },
  { $id: 'Site', description: "The blog's settings." },
);

/** GET/PATCH /api/v1/site, for admins. */
export async function siteApi(root: FastifyInstance, opts: { settings: SiteSettingsService }) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { settings } = opts;

  app.get(
    '/site',
    {
      schema: { tags: ['site'], summary: "The blog's settings (admins)", security, response: { 200: SiteSchema, ...problems(401, 403) } },
    },
    async (request) => {
      requireAdmin(request, 'Only admins see the site settings');
      return settings.get();
    },
  );

  app.patch(
    '/site',
    {
      // The schema's refusals are not the answer on their own: the service adds its
      // own for the fields that passed, and one problem names every wrong field.
      attachValidation: true,
      schema: {
        tags: ['site'],
        summary: "Change the blog's settings (admins)",
        security,
        description: 'Every field is checked before anything is stored; a problem names each bad field.',
        body: SitePatchSchema,
        response: { 200: SiteSchema, ...problems(401, 403, 422) },
      },
    },
    async (request) => {
      requireAdmin(request, 'Only admins change the site settings');
      const { value, errors } = readPatch(request, SitePatchSchema);
      return settings.update(value, errors);
    },
  );
}
