import { Type, type Static } from 'typebox';
import { MESSAGES, NOT_BLANK } from '../../platform/http/input.ts';
import { SLUG_MESSAGE } from '../../lib/slugify.ts';
import { LIMITS } from './posts.service.ts';
import { MAX_OFFSET, MAX_QUERY_LENGTH, MAX_TERMS } from './search/index.ts';

// One schema drives validation, response serialization and the OpenAPI document.
// The commands' schemas (create, replace, patch) serve the API and the HTML forms alike.

const Status = Type.Enum(['draft', 'published', 'scheduled'], {
  description: 'Only published posts are visible to readers and feeds. A scheduled post (give publishedAt, in the future) goes live by itself at that time.',
});

export const PostSchema = Type.Object(
  {
    id: Type.Integer({ description: 'Numeric id; stable for the life of the post.' }),
    slug: Type.String({ description: 'URL name of the post, unique across the blog.' }),
    title: Type.String({ description: 'Plain-text title.' }),
    body: Type.String({ description: 'The Markdown source.' }),
    bodyHtml: Type.String({ description: 'The body rendered to sanitized HTML, safe to insert into a page.' }),
    excerpt: Type.String({ description: 'The excerpt shown in lists: the custom one, or the start of the body.' }),
    customExcerpt: Type.Union([Type.String(), Type.Null()], { description: 'The excerpt the writer gave, if any.' }),
    status: Status,
    author: Type.Union(
      [
        Type.Object({
          id: Type.Integer({ description: 'User id.' }),
          username: Type.String({ description: 'Unique username.' }),
          displayName: Type.String({ description: 'Name shown on posts.' }),
        }),
        Type.Null(),
      ],
      { description: 'Who wrote the post; null for the seeded welcome post or a deleted account.' },
    ),
    tags: Type.Array(
      Type.Object({
        name: Type.String({ description: 'Tag as written.' }),
        slug: Type.String({ description: 'URL name of the tag: /tags/{slug}.' }),
      }),
      { description: 'Tags, alphabetically.' },
    ),
    favoritesCount: Type.Integer({ description: 'How many people favourited (liked) the post.' }),
    favorited: Type.Boolean({ description: 'Whether the person asking favourited it (false without a login).' }),
    url: Type.String({ description: "Absolute address of the post's HTML page." }),
    createdAt: Type.String({ format: 'date-time', description: 'When the post was created (UTC).' }),
    updatedAt: Type.String({ format: 'date-time', description: 'When the post last changed (UTC).' }),
    publishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description: 'When the post was first published (or, when scheduled, will be); null for a never-published draft.',
    }),
    deletedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description: 'When the post went to the trash (it can be restored for 30 days, then it is removed for good); null for a post that is not in the trash.',
    }),
    featureImage: Type.Union([Type.String(), Type.Null()], {
      description: 'The featured image: the id of an uploaded image (GET /api/v1/media/{id} has its variants), or null.',
    }),
    featureImageAlt: Type.String({ description: "The featured image's alt text for this post; empty means the image's own." }),
  },
  { $id: 'Post', description: 'A blog post.' },
);

// Text fields refuse characters XML 1.0 forbids (they would break the feeds).
const TEXT_RULE = ' Control characters other than tab, newline and carriage return are refused (422).';
const fields = {
  title: Type.String({
    maxLength: LIMITS.title,
    pattern: NOT_BLANK,
    errorMessage: MESSAGES.blank,
    description: `Plain-text title; must not be blank.${TEXT_RULE}`,
  }),
  body: Type.String({
    maxLength: LIMITS.body,
    pattern: NOT_BLANK,
    errorMessage: MESSAGES.blank,
    description: `Markdown; must not be blank. Raw HTML is shown as text; links are limited to http, https and mailto.${TEXT_RULE}`,
  }),
  slug: Type.String({
    maxLength: LIMITS.slug,
    // Letters of any alphabet, read in lowercase, around spaces trimmed; empty derives it.
    pattern: '^\\s*([\\p{L}\\p{M}\\p{N}]+(-[\\p{L}\\p{M}\\p{N}]+)*)?\\s*$',
    errorMessage: SLUG_MESSAGE,
    description: 'URL name; letters (of any alphabet), digits and single hyphens, stored in lowercase. Derived from the title when omitted.',
  }),
  excerpt: Type.Union([Type.String({ maxLength: LIMITS.excerpt }), Type.Null()], { description: 'Custom excerpt; null or empty to derive it from the body.' }),
  status: Status,
  // A form sends them as one comma-separated text.
  tags: Type.Array(Type.String({ maxLength: LIMITS.tag }), {
    maxItems: LIMITS.tags,
    'x-form-separator': ',',
    description: 'Tag names; new tags are created as needed.',
  }),
  featureImage: Type.Union([Type.String({ maxLength: 40 }), Type.Null()], {
    description:
      'The id of an uploaded image (see /api/v1/media) to feature, or null/empty for none. Omitted: unchanged (also with PUT). An unknown id is a 422.',
  }),
  featureImageAlt: Type.Union([Type.String({ maxLength: LIMITS.featureImageAlt }), Type.Null()], {
    description: "Alt text for the featured image in this post; empty or null for the image's own.",
  }),
  publishedAt: Type.String({
    format: 'date-time',
    description:
      'With status "scheduled": when the post goes live (in the future). With status "published", from editors and admins: a past publication date (imports keep their dates); a future one is a 422.',
  }),
};

export const PostCreateSchema = Type.Object(
  {
    title: fields.title,
    body: fields.body,
    slug: Type.Optional(fields.slug),
    excerpt: Type.Optional(fields.excerpt),
    status: Type.Optional({ ...fields.status, description: 'Defaults to draft.' }),
    tags: Type.Optional(fields.tags),
    publishedAt: Type.Optional(fields.publishedAt),
    featureImage: Type.Optional(fields.featureImage),
    featureImageAlt: Type.Optional(fields.featureImageAlt),
  },
  { additionalProperties: false, description: 'A new post.' },
);

export const PostReplaceSchema = Type.Object(
  {
    title: fields.title,
    body: fields.body,
    status: fields.status,
    slug: Type.Optional({ ...fields.slug, description: 'New URL name; the current one is kept when omitted.' }),
    excerpt: Type.Optional(fields.excerpt),
    tags: Type.Optional(fields.tags),
    publishedAt: Type.Optional(fields.publishedAt),
    featureImage: Type.Optional(fields.featureImage),
    featureImageAlt: Type.Optional(fields.featureImageAlt),
  },
  { additionalProperties: false, description: 'The whole post; omitted excerpt and tags are cleared.' },
);

export const PostPatchSchema = Type.Object(
  {
    title: Type.Optional(fields.title),
    body: Type.Optional(fields.body),
    status: Type.Optional(fields.status),
    slug: Type.Optional(fields.slug),
    excerpt: Type.Optional(fields.excerpt),
    tags: Type.Optional(fields.tags),
    publishedAt: Type.Optional(fields.publishedAt),
    featureImage: Type.Optional(fields.featureImage),
    featureImageAlt: Type.Optional(fields.featureImageAlt),
  },
  { additionalProperties: false, description: 'Only the fields to change.' },
);

export const PostListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Posts per page.' })),
  before: Type.Optional(Type.String({ maxLength: 100, description: 'The nextCursor of the previous page.' })),
  tag: Type.Optional(Type.String({ maxLength: 100, description: 'Only posts with this tag slug.' })),
  author: Type.Optional(Type.String({ maxLength: 100, description: 'Only posts by this username.' })),
  status: Type.Optional(
    Type.Enum(['published', 'draft', 'all', 'trashed'], {
      default: 'published',
      description:
        "draft, all and trashed need authentication: authors see their own drafts and trash, editors and admins everyone's. " +
        'trashed lists the trash, most recently deleted first; every other list leaves trashed posts out.',
    }),
  ),
  q: Type.Optional(
    Type.String({
      maxLength: MAX_QUERY_LENGTH,
      description:
        `Full-text search over titles, bodies and tags of published posts (with q, status must be published). ` +
        `Posts matching every word come best match first (title, then tags, then body), each with a \`highlight\`. ` +
        `Only letters and digits count: quotes and operators are read as spaces; at most ${MAX_TERMS} words are used. ` +
        `Longer than ${MAX_QUERY_LENGTH} characters, or without any word, is a 422 naming q. ` +
        `Paging: pass the returned nextCursor as \`before\` with the same q; results end after ${MAX_OFFSET} posts.`,
    }),
  ),
});

// Search results are posts plus a highlighted snippet.
const PostListItem = Type.Object(
  {
    ...PostSchema.properties,
    highlight: Type.Optional(
      Type.String({
        description: 'Only with q: a snippet of the body with the matched words in <mark>. HTML: the text is escaped, <mark> is the only markup.',
      }),
    ),
  },
  { description: 'A blog post (with a highlight when searching).' },
);

export const PostListSchema = Type.Object(
  {
    posts: Type.Array(PostListItem, { description: 'Newest first: by publication date for published, by creation date otherwise. With q: best match first.' }),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `before` to get the next page; null on the last page.' }),
  },
  { description: 'One page of posts.' },
);

export const IdOrSlugParams = Type.Object({
  idOrSlug: Type.String({ maxLength: 100, description: 'Numeric id or slug.' }),
});

export type PostListQueryT = Static<typeof PostListQuery>;
