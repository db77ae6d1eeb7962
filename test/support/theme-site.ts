// A small, believable blog for the theme's browser tests: a site with its own
// name and menu, images, a gallery, a page, posts with code, tables, quotes and
// pictures, comments, a draft and a scheduled post. Everything goes through the API.
import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { TestApp } from './app.ts';
import { buildToken, buildUser, setSite, type TestUser } from './factories.ts';

export interface ThemeSite {
  admin: TestUser;
  author: TestUser;
  reader: TestUser;
  /** A post with a featured image, pictures, a gallery and comments. */
  postSlug: string;
  tagSlug: string;
  gallerySlug: string;
  pageSlug: string;
  /** The path of an uploaded picture, for an avatar once the server's address is known. */
  avatarPath: string;
}

/** A gradient picture with a sun: something that looks like a photograph from afar. */
async function picture(from: string, to: string, width = 1600, height = 1000): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${from}"/><stop offset="1" stop-color="${to}"/></linearGradient></defs>
<rect width="100%" height="100%" fill="url(#g)"/><circle cx="${width * 0.7}" cy="${height * 0.45}" r="${height * 0.12}" fill="#fff3c4" opacity=".85"/>
<path d="M0 ${height * 0.75} Q ${width * 0.25} ${height * 0.65} ${width * 0.5} ${height * 0.78} T ${width} ${height * 0.72} V ${height} H 0 Z" fill="#1d3b4f" opacity=".8"/></svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 70 }).toBuffer();
}

export async function seedThemeSite(t: TestApp): Promise<ThemeSite> {
  const admin = await buildUser(t, { role: 'admin', username: 'harbourmaster' });
  const author = await buildUser(t, { role: 'author', username: 'lin' });
  const reader = await buildUser(t, { role: 'reader', username: 'sam' });
  const tokens = new Map<TestUser, string>();
  for (const u of [admin, author, reader]) tokens.set(u, await buildToken(t, u));
  const api = async (who: TestUser, method: string, url: string, payload?: unknown, status = [200, 201]) => {
    const res = await t.app.inject({
      method: method as 'POST',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${tokens.get(who)}`, 'content-type': 'application/json' },
      payload: payload === undefined ? undefined : JSON.stringify(payload),
    });
    assert.ok(status.includes(res.statusCode), `${method} ${url}: ${res.statusCode} ${res.body}`);
    return res.json();
  };
  const upload = async (name: string, alt: string, from: string, to: string) => {
    const fd = new FormData();
    fd.append('alt', alt);
    fd.append('file', new Blob([new Uint8Array(await picture(from, to))], { type: 'image/jpeg' }), name);
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/media', headers: { authorization: `Bearer ${tokens.get(author)}` }, payload: fd });
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as { id: string; url: string };
  };

  await setSite(t, {
    name: 'The Harbour Log',
    description: 'Notes from a small harbour: boats, weather and the people who mend nets.',
    footerText: 'Written by the water since 2019.',
    socialLinks: [{ label: 'Mastodon', url: 'https://social.example/@harbour' }],
    navigation: [
      { label: 'About', url: '/pages/about' },
      { label: 'Photos', url: '/galleries/winter-light' },
      { label: 'Boats', url: '/tags/boats' },
    ],
  });
  await api(author, 'PATCH', '/me', { displayName: 'Lin Harbour', bio: 'Sails a small wooden boat and writes about the weather.' });
  await api(reader, 'PATCH', '/me', { displayName: 'Sam Ferry' });

  const dawn = await upload('dawn.jpg', 'The harbour at dawn, boats still moored', '#f6b38a', '#6d8fb3');
  const dusk = await upload('dusk.jpg', 'Dusk over the breakwater', '#3a4f7a', '#d98c5f');
  const fog = await upload('fog.jpg', 'Fog rolling in past the lighthouse', '#c9d3da', '#7c8d99');
  await t.queue.drain();

  const gallery = await api(author, 'POST', '/galleries', {
    title: 'Winter light',
    slug: 'winter-light',
    description: 'Three mornings in January.',
    items: [
      { mediaId: dawn.id, caption: 'Dawn' },
      { mediaId: dusk.id, caption: 'Dusk' },
      { mediaId: fog.id, caption: 'Fog' },
    ],
  });
  const page = await api(admin, 'POST', '/pages', {
    title: 'About',
    slug: 'about',
    status: 'published',
    body: 'The Harbour Log is written by the people who work the quay.\n\nWrite to us at *log@harbour.example*.',
  });

  const body = `The tide turned at six, and by seven the whole quay smelled of diesel and coffee. This is a note on how we rigged the *Kittiwake* for the first winter sail, and what we would do differently.

## The rigging

We re-reeved the main halyard with a lighter line. The old one had stretched by nearly a metre over the summer, which is more than any of us had guessed.

> A boat is a hole in the water into which you pour money — and, if you are lucky, a few good mornings.

![Dusk over the breakwater](${dusk.url})

### What we measured

| Line | Length | Stretch under load |
|---|---|---|
| Old halyard | 24 m | 0.9 m |
| New halyard | 24 m | 0.2 m |

A small script kept the log of the tide gauge:

\`\`\`js
// Read the gauge every ten minutes and keep the highest reading of the day.
const highest = readings.reduce((max, r) => (r.metres > max.metres ? r : max));
console.log(\`High water: \${highest.metres} m at \${highest.at}\`);
\`\`\`

## The mornings

[gallery:${gallery.slug}]

Next week: the engine, and why \`diesel bug\` is a real thing.`;
  const posts = [
    { title: 'Rigging the Kittiwake for winter', body, tags: ['boats', 'winter'], featureImage: dawn.id },
    {
      title: 'Reading the weather from the quay',
      body: 'Clouds tell you more than the forecast if you know which ones to watch. '.repeat(40),
      tags: ['weather'],
      featureImage: fog.id,
    },
    {
      title: 'Mending nets with Ada',
      body: 'Ada has mended nets for forty years. She says the knot matters less than the patience. '.repeat(25),
      tags: ['people'],
    },
    {
      title: 'A short note on tides',
      body: 'Spring tides are not about spring. They come twice a month, with the new and the full moon.',
      tags: ['boats'],
      featureImage: dusk.id,
    },
  ];
  let postSlug = '';
  for (const p of posts.reverse()) {
    const created = await api(author, 'POST', '/posts', { ...p, status: 'published' });
    postSlug = created.slug;
  }
  await api(author, 'POST', '/posts', { title: 'Engine notes (draft)', body: 'Still writing this one.', status: 'draft' });
  await api(author, 'POST', '/posts', {
    title: 'The spring regatta',
    body: 'Coming soon.',
    status: 'scheduled',
    publishedAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
  });
  const first = await api(reader, 'POST', `/posts/${postSlug}/comments`, { body: 'Lovely photos. How much did the new halyard cost?' });
  await api(author, 'POST', `/posts/${postSlug}/comments`, { body: 'About forty euros, and worth every cent.', parentId: first.id });
  await api(admin, 'POST', `/posts/${postSlug}/comments`, { body: 'The fog picture is my favourite.' });
  await t.queue.drain();
  return { admin, author, reader, postSlug, tagSlug: 'boats', gallerySlug: gallery.slug, pageSlug: page.page.slug, avatarPath: new URL(dusk.url).pathname };
}
