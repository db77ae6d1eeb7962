import type { FastifyRequest } from 'fastify';
import { absoluteUrl, type PageOptions } from '../../platform/http/layout.ts';
import type { Post } from './posts.queries.ts';

const FIRST_IMAGE = /<img\s[^>]*?src="([^"]+)"/;

/**
 * A post's sharing metadata: its excerpt, its featured image (`share`, with its size
 * and alt text) or else its first image, BlogPosting JSON-LD; drafts kept out of indexes.
 */
export function postMeta(
  request: FastifyRequest,
  post: Post,
  share?: { url: string; width: number; height: number; alt: string } | null,
): Partial<PageOptions> {
  const { site } = request.server.layout;
  const url = absoluteUrl(site, `/posts/${post.slug}`);
  const src = FIRST_IMAGE.exec(post.bodyHtml)?.[1]?.replace(/&amp;/g, '&');
  const image = share ? absoluteUrl(site, share.url) : src ? absoluteUrl(site, src) : undefined;
  const logo = site.settings().logo;
  return {
    description: post.excerpt,
    canonical: `/posts/${post.slug}`,
    ogType: 'article',
    image,
    ...(share ? { imageWidth: share.width, imageHeight: share.height, imageAlt: share.alt } : {}),
    noindex: post.status !== 'published',
    jsonLd: {
      '@context': 'https://schema.org',
      '@type': 'BlogPosting',
      headline: post.title,
      description: post.excerpt,
      url,
      mainEntityOfPage: url,
      datePublished: post.publishedAt ?? post.createdAt,
      dateModified: post.updatedAt,
      ...(image ? { image } : {}),
      ...(post.author ? { author: { '@type': 'Person', name: post.author.displayName, url: absoluteUrl(site, `/@${post.author.username}`) } } : {}),
      keywords: post.tags.map((t) => t.name).join(', '),
      publisher: {
        '@type': 'Organization',
        name: site.name(),
        url: `${site.url}/`,
        ...(logo ? { logo: { '@type': 'ImageObject', url: absoluteUrl(site, logo.url) } } : {}),
      },
    },
  };
}

/** The front page's WebSite JSON-LD, with the search box search engines may offer. */
export function websiteJsonLd(request: FastifyRequest): Record<string, unknown> {
  const { site } = request.server.layout;
  const s = site.settings();
  return {
    '@context': 'https://schema.org',
    '@type': 'WebSite',
    name: s.name,
    ...(s.description ? { description: s.description } : {}),
    url: `${site.url}/`,
    inLanguage: s.language,
    potentialAction: { '@type': 'SearchAction', target: `${site.url}/search?q={search_term_string}`, 'query-input': 'required name=search_term_string' },
  };
}
