// Slugs are words in any script: "Café crème" → cafe-creme, "日本語" → 日本語,
// "Привет, мир" → привет-мир. Latin letters lose their accents (what people
// type in an address bar), other scripts keep their letters and marks (a
// Devanagari vowel sign or a Hangul syllable is part of the word). Nothing in a
// slug is reserved in a URL: it is letters, digits, marks and single hyphens,
// lowercase, NFC, so it percent-encodes one way only (encodeURIComponent).

/** Latin letters that have no decomposition but an ASCII spelling. */
const FOLD: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', đ: 'd', ð: 'd', þ: 'th', ł: 'l', ı: 'i', ħ: 'h', ŧ: 't' };

/** Turns a title or a tag name into a URL slug: lowercase letters (any script), digits and single hyphens, at most maxLength characters. */
export function slugify(text: string, maxLength = 80): string {
  const words = text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/(\p{Script=Latin})\p{M}+/gu, '$1') // drop the accents that NFKD split off Latin letters
    .normalize('NFC')
    .replace(/[ßæœøđðþłıħŧ]/g, (c) => FOLD[c])
    .replace(/['’]/g, '')
    .replace(/[^\p{L}\p{N}\p{M}]+/gu, '-')
    .replace(/(^|-)\p{M}+/gu, '$1') // a mark with no letter to sit on
    .replace(/^-+|-+$/g, '');
  if (words.length <= maxLength) return words;
  // Cut by whole characters: never half a surrogate pair, never a letter without its marks.
  let end = maxLength;
  const splits = (i: number) => {
    const c = words.charCodeAt(i);
    return (c >= 0xdc00 && c <= 0xdfff) || MARK.test(String.fromCodePoint(words.codePointAt(i)!));
  };
  while (end > 0 && splits(end)) end -= 1;
  return words.slice(0, end).replace(/-+$/, '');
}

const MARK = /^\p{M}/u;

/** The shape every stored slug has; user-given slugs (lowercased, NFC) must match it. */
export const SLUG_PATTERN = /^[\p{Ll}\p{Lm}\p{Lo}\p{M}\p{N}]+(?:-[\p{Ll}\p{Lm}\p{Lo}\p{M}\p{N}]+)*$/u;

/** What a refused slug is told (the API and the forms). */
export const SLUG_MESSAGE = 'may contain only lowercase letters (of any alphabet), digits and single hyphens (like my-first-post or 日本語-メモ)';

/** A user-given slug in the one form it is stored and looked up in. */
export const normalizeSlug = (raw: string): string => raw.trim().normalize('NFC').toLowerCase();

/** A URL with what a header cannot carry (a slug's letters beyond ASCII, spaces) percent-encoded; the rest (an existing %2F) kept as it is. */
export const encodeLocation = (url: string): string => url.replace(/[^\x21-\x7e]+/g, (c) => encodeURIComponent(c));
