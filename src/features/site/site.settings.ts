import { AppError, type FieldError } from '../../platform/errors.ts';
import type { Site, SiteLink, SiteSettings } from '../../platform/site.ts';
import type { AccountsService } from '../accounts/index.ts';
import type { MediaService } from '../media/index.ts';
import { LIMITS, type SIGNUP_MODES, type SitePatch, SitePatchSchema } from './site.schema.ts';

/** The settings as the API and the form show them: the site's own, plus who may sign up (kept by accounts). */
export interface SiteView extends SiteSettings {
  signupMode: (typeof SIGNUP_MODES)[number];
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

// The schema checked the tag's form; Intl says whether it is one it can read.
function validLanguage(tag: string): boolean {
  try {
    return Intl.getCanonicalLocales(tag).length === 1;
  } catch {
    return false;
  }
}

/** An absolute http(s) URL, or (for the menu) a path on this site. */
function validUrl(url: string, allowPath: boolean): boolean {
  if (allowPath && url.startsWith('/') && !url.startsWith('//') && !url.includes('\\')) return true;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

// The schema took the list's shape and length; each link is checked here, by its number.
function links(field: string, list: SiteLink[] | undefined, allowPath: boolean, errors: FieldError[]): SiteLink[] | undefined {
  if (list === undefined) return undefined;
  const out: SiteLink[] = [];
  for (const [i, item] of list.entries()) {
    const label = item.label.trim();
    const url = item.url.trim();
    if (!label || label.length > LIMITS.label) errors.push({ field, message: `link ${i + 1} needs a label of 1 to ${LIMITS.label} characters` });
    else if (url.length > LIMITS.url || !validUrl(url, allowPath)) {
      errors.push({ field, message: `link ${i + 1} needs an http(s) address${allowPath ? ' or a path starting with /' : ''}` });
    } else out.push({ label, url });
  }
  return out;
}

/** Writes links as "Label | URL" lines. */
export function linkLines(list: SiteLink[]): string {
  return list.map((l) => `${l.label} | ${l.url}`).join('\n');
}

/** Reading and changing the site settings: the rules their command schema (site.schema.ts) cannot say are here. */
export function createSiteSettingsService(deps: { site: Site; accounts: AccountsService; media: MediaService }) {
  const { site, accounts, media } = deps;

  async function image(field: string, id: string | null | undefined, errors: FieldError[]): Promise<{ id: string; url: string } | null | undefined> {
    if (id === undefined) return undefined;
    if (id === null || id === '') return null;
    try {
      const m = await media.get(id);
      return { id: m.id, url: m.url };
    } catch (e) {
      if (e instanceof AppError && e.status === 404) {
        errors.push({ field, message: 'is not an image in the media library' });
        return undefined;
      }
      throw e;
    }
  }

  // Messages in the order the form shows its fields.
  const order = Object.keys(SitePatchSchema.properties);
  const byField = (a: FieldError, b: FieldError) => order.indexOf(a.field.split('.')[0]) - order.indexOf(b.field.split('.')[0]);

  return {
    /** The current settings (fresh from the database if it changed). */
    async get(): Promise<SiteView> {
      return { ...(await site.refresh()), signupMode: await accounts.signupMode() };
    },

    /**
     * Applies a change whose fields passed the command schema (SitePatchSchema);
     * `refused` are the messages of those that did not (checkPatch). Every field
     * is checked, and nothing is stored unless all are valid: one answer names
     * every wrong field.
     */
    async update(patch: SitePatch, refused: FieldError[] = []): Promise<SiteView> {
      const current = await site.refresh();
      const errors: FieldError[] = [...refused];
      const next: SiteSettings = { ...current };
      if (patch.name !== undefined) next.name = patch.name.trim();
      if (patch.description !== undefined) next.description = patch.description.trim();
      if (patch.footerText !== undefined) next.footerText = patch.footerText.trim();
      const logo = await image('logoId', patch.logoId, errors);
      if (logo !== undefined) next.logo = logo;
      const favicon = await image('faviconId', patch.faviconId, errors);
      if (favicon !== undefined) next.favicon = favicon;
      if (patch.accentColor !== undefined) next.accentColor = patch.accentColor.trim().toLowerCase();
      if (patch.language !== undefined) {
        if (validLanguage(patch.language.trim())) next.language = Intl.getCanonicalLocales(patch.language.trim())[0];
        else errors.push({ field: 'language', message: 'must be a language tag such as en, de or pt-BR' });
      }
      if (patch.timeZone !== undefined) {
        if (validTimeZone(patch.timeZone.trim())) next.timeZone = patch.timeZone.trim();
        else errors.push({ field: 'timeZone', message: 'must be an IANA time zone such as UTC or Europe/Berlin' });
      }
      if (patch.postsPerPage !== undefined) next.postsPerPage = patch.postsPerPage;
      const social = links('socialLinks', patch.socialLinks, false, errors);
      if (social) next.socialLinks = social;
      const navigation = links('navigation', patch.navigation, true, errors);
      if (navigation) next.navigation = navigation;
      if (patch.signupRole !== undefined) next.signupRole = patch.signupRole;
      if (patch.commenting !== undefined) next.commenting = patch.commenting;
      if (errors.length) throw new AppError('validation_failed', undefined, errors.sort(byField));
      await site.save(next);
      if (patch.signupMode !== undefined) await accounts.setSignupMode(patch.signupMode);
      return this.get();
    },
  };
}

export type SiteSettingsService = ReturnType<typeof createSiteSettingsService>;
