import { AppError, type FieldError } from '../../platform/errors.ts';
import type { Site, SiteLink, SiteSettings } from '../../platform/site.ts';
import type { AccountsService } from '../accounts/index.ts';
import type { MediaService } from '../media/index.ts';

export const SIGNUP_ROLES = ['reader', 'author'] as const;
export const COMMENTING = ['signed-in', 'verified', 'nobody'] as const;
export const SIGNUP_MODES = ['open', 'invite', 'closed'] as const;
export const LIMITS = { name: 100, description: 300, footerText: 500, links: 20, label: 60, url: 500, postsPerPage: 100 };

/** The settings as the API and the form show them: the site's own, plus who may sign up (kept by accounts). */
export interface SiteView extends SiteSettings {
  signupMode: (typeof SIGNUP_MODES)[number];
}

/** A change to the settings: any subset, with logo and favicon named by media id (null clears). */
export interface SitePatch {
  name?: unknown;
  description?: unknown;
  logoId?: unknown;
  faviconId?: unknown;
  accentColor?: unknown;
  language?: unknown;
  timeZone?: unknown;
  postsPerPage?: unknown;
  footerText?: unknown;
  socialLinks?: unknown;
  navigation?: unknown;
  signupRole?: unknown;
  commenting?: unknown;
  signupMode?: unknown;
}

const HEX = /^#[0-9a-f]{6}$/i;

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function validLanguage(tag: string): boolean {
  if (!/^[a-z]{2,3}(-[a-z0-9]{2,8})*$/i.test(tag)) return false;
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

function text(field: string, v: unknown, max: number, errors: FieldError[], required = false): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') {
    errors.push({ field, message: 'must be text' });
    return undefined;
  }
  const s = v.trim();
  if (required && !s) errors.push({ field, message: 'must not be empty' });
  else if (s.length > max) errors.push({ field, message: `must be at most ${max} characters` });
  return s;
}

function links(field: string, v: unknown, allowPath: boolean, errors: FieldError[]): SiteLink[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) {
    errors.push({ field, message: 'must be a list of links' });
    return undefined;
  }
  if (v.length > LIMITS.links) {
    errors.push({ field, message: `may hold at most ${LIMITS.links} links` });
    return undefined;
  }
  const out: SiteLink[] = [];
  for (const [i, item] of v.entries()) {
    const label = typeof item?.label === 'string' ? item.label.trim() : '';
    const url = typeof item?.url === 'string' ? item.url.trim() : '';
    if (!label || label.length > LIMITS.label) errors.push({ field, message: `link ${i + 1} needs a label of 1 to ${LIMITS.label} characters` });
    else if (url.length > LIMITS.url || !validUrl(url, allowPath)) {
      errors.push({ field, message: `link ${i + 1} needs an http(s) address${allowPath ? ' or a path starting with /' : ''}` });
    } else out.push({ label, url });
  }
  return out;
}

/** Reads "Label | URL" lines (the form's way of writing a list of links). */
export function parseLinkLines(raw: string): SiteLink[] {
  return raw
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const bar = line.lastIndexOf('|');
      return bar < 0 ? { label: '', url: line } : { label: line.slice(0, bar).trim(), url: line.slice(bar + 1).trim() };
    });
}

/** Writes links as "Label | URL" lines. */
export function linkLines(list: SiteLink[]): string {
  return list.map((l) => `${l.label} | ${l.url}`).join('\n');
}

/** Reading and changing the site settings; the one place they are validated. */
export function createSiteSettingsService(deps: { site: Site; accounts: AccountsService; media: MediaService }) {
  const { site, accounts, media } = deps;

  async function image(field: string, v: unknown, errors: FieldError[]): Promise<{ id: string; url: string } | null | undefined> {
    if (v === undefined) return undefined;
    if (v === null || v === '') return null;
    if (typeof v !== 'string' || v.length > 100) {
      errors.push({ field, message: 'must be a media id' });
      return undefined;
    }
    try {
      const m = await media.get(v);
      return { id: m.id, url: m.url };
    } catch (e) {
      if (e instanceof AppError && e.status === 404) {
        errors.push({ field, message: 'is not an image in the media library' });
        return undefined;
      }
      throw e;
    }
  }

  return {
    /** The current settings (fresh from the database if it changed). */
    async get(): Promise<SiteView> {
      return { ...(await site.refresh()), signupMode: await accounts.signupMode() };
    },

    /** Applies a change: every field is checked first, and nothing is stored unless all are valid. */
    async update(patch: SitePatch): Promise<SiteView> {
      const current = await site.refresh();
      const errors: FieldError[] = [];
      const next: SiteSettings = { ...current };
      const name = text('name', patch.name, LIMITS.name, errors, true);
      if (name !== undefined) next.name = name;
      const description = text('description', patch.description, LIMITS.description, errors);
      if (description !== undefined) next.description = description;
      const footerText = text('footerText', patch.footerText, LIMITS.footerText, errors);
      if (footerText !== undefined) next.footerText = footerText;
      const logo = await image('logoId', patch.logoId, errors);
      if (logo !== undefined) next.logo = logo;
      const favicon = await image('faviconId', patch.faviconId, errors);
      if (favicon !== undefined) next.favicon = favicon;
      if (patch.accentColor !== undefined) {
        if (typeof patch.accentColor === 'string' && HEX.test(patch.accentColor.trim())) next.accentColor = patch.accentColor.trim().toLowerCase();
        else errors.push({ field: 'accentColor', message: 'must be a colour like #2451b7' });
      }
      if (patch.language !== undefined) {
        if (typeof patch.language === 'string' && validLanguage(patch.language.trim())) next.language = Intl.getCanonicalLocales(patch.language.trim())[0];
        else errors.push({ field: 'language', message: 'must be a language tag such as en, de or pt-BR' });
      }
      if (patch.timeZone !== undefined) {
        if (typeof patch.timeZone === 'string' && patch.timeZone.trim().length <= 100 && validTimeZone(patch.timeZone.trim()))
          next.timeZone = patch.timeZone.trim();
        else errors.push({ field: 'timeZone', message: 'must be an IANA time zone such as UTC or Europe/Berlin' });
      }
      if (patch.postsPerPage !== undefined) {
        const n = typeof patch.postsPerPage === 'string' && /^\d{1,4}$/.test(patch.postsPerPage.trim()) ? Number(patch.postsPerPage) : patch.postsPerPage;
        if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= LIMITS.postsPerPage) next.postsPerPage = n;
        else errors.push({ field: 'postsPerPage', message: `must be a whole number from 1 to ${LIMITS.postsPerPage}` });
      }
      const social = links('socialLinks', patch.socialLinks, false, errors);
      if (social) next.socialLinks = social;
      const navigation = links('navigation', patch.navigation, true, errors);
      if (navigation) next.navigation = navigation;
      if (patch.signupRole !== undefined) {
        if (SIGNUP_ROLES.includes(patch.signupRole as never)) next.signupRole = patch.signupRole as SiteSettings['signupRole'];
        else errors.push({ field: 'signupRole', message: `must be one of ${SIGNUP_ROLES.join(', ')}` });
      }
      if (patch.commenting !== undefined) {
        if (COMMENTING.includes(patch.commenting as never)) next.commenting = patch.commenting as SiteSettings['commenting'];
        else errors.push({ field: 'commenting', message: `must be one of ${COMMENTING.join(', ')}` });
      }
      if (patch.signupMode !== undefined && !SIGNUP_MODES.includes(patch.signupMode as never)) {
        errors.push({ field: 'signupMode', message: `must be one of ${SIGNUP_MODES.join(', ')}` });
      }
      if (errors.length) throw new AppError('validation_failed', undefined, errors);
      await site.save(next);
      if (patch.signupMode !== undefined) await accounts.setSignupMode(patch.signupMode as string);
      return this.get();
    },
  };
}

export type SiteSettingsService = ReturnType<typeof createSiteSettingsService>;
