import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeLocation, SLUG_PATTERN, slugify } from './slugify.ts';

test('slugs keep the letters of every script; Latin loses its accents', () => {
  const cases: [string, string][] = [
    ['Café crème', 'cafe-creme'],
    ['日本語', '日本語'],
    ['Привет, мир', 'привет-мир'],
    ['Straße & Ærø', 'strasse-aero'],
    ['हिन्दी भाषा', 'हिन्दी-भाषा'],
    ['한국어 블로그', '한국어-블로그'],
    ['Ελληνικά', 'ελληνικά'],
    ['İstanbul', 'istanbul'],
    ['Node.js — 2024!', 'node-js-2024'],
    ["Don't panic 🎉", 'dont-panic'],
    ['  --a  b-- ', 'a-b'],
    ['🎉 ✨', ''],
  ];
  for (const [name, slug] of cases) {
    assert.equal(slugify(name), slug, name);
    if (slug) assert.match(slug, SLUG_PATTERN, name);
  }
  // NFC and NFD spellings of one name give one slug.
  assert.equal(slugify('Cafe\u0301'), slugify('Caf\u00e9'));
  assert.equal(slugify('한국'.normalize('NFD')), '한국');
});

test('a long name is cut at a whole character, never inside one', () => {
  assert.equal(slugify('日'.repeat(50), 40), '日'.repeat(40));
  assert.equal(slugify('😀a'.repeat(30), 5), 'a-a-a', 'an emoji is a separator, and no half of one is left');
  const hindi = slugify('हिन्दी '.repeat(20), 10);
  assert.ok(hindi.length <= 10 && !/-$/.test(hindi) && SLUG_PATTERN.test(hindi), hindi);
  assert.equal(slugify('ab '.repeat(30), 6), 'ab-ab');
});

test('slugs are URL-safe: nothing reserved, one percent-encoding, and Location headers carry them encoded', () => {
  for (const s of ['cafe-creme', '日本語', 'привет-мир', 'हिन्दी-भाषा']) {
    assert.doesNotMatch(s, /[/?#%&=+\s.]/);
    assert.equal(decodeURIComponent(encodeURIComponent(s)), s);
  }
  for (const bad of ['Upper', 'two--hyphens', '-edge', 'with space', 'a/b', 'a%20b', 'a.b']) assert.doesNotMatch(bad, SLUG_PATTERN, bad);
  assert.equal(encodeLocation('/tags/日本語?x=1'), '/tags/%E6%97%A5%E6%9C%AC%E8%AA%9E?x=1');
  assert.equal(encodeLocation('/a%2Fb'), '/a%2Fb', 'what is already encoded stays');
});
