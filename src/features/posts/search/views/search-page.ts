import { dateHtml } from '../../../../lib/dates.ts';
import { html } from '../../../../lib/html.ts';
import type { SearchResult } from '../../posts.service.ts';
import { MAX_QUERY_LENGTH } from '../search.input.ts';

export interface SearchPageOptions {
  /** The query as typed, shown again in the box. */
  q: string;
  /** Null before anything was searched, or when the query was refused. */
  results: SearchResult[] | null;
  /** Why the query was refused, shown beside the box. */
  error?: string;
  prevHref: string | null;
  nextHref: string | null;
}

/** The search page: the form (keeping the query), then the results with highlighted snippets. */
export function searchPageHtml(o: SearchPageOptions): string {
  const invalid = o.error ? html` aria-invalid="true" aria-describedby="q-error"` : '';
  const form = html`<form method="get" action="/search" role="search" class="search-form">
  <label for="q">Search posts</label>
  <div class="search-row"><input type="search" id="q" name="q" value="${o.q}" maxlength="${MAX_QUERY_LENGTH}"!${invalid}> <button>Search</button></div>
  !${o.error ? html`<p class="field-error" id="q-error" role="alert">${o.error}</p>` : ''}
</form>`;
  if (!o.results) return html`<h1>Search</h1>!${form}`;
  const items = o.results.map(
    (p) => html`<li>
  <article>
    <h2><a href="/posts/${p.slug}">${p.title}</a></h2>
    <p class="meta">By !${p.author ? html`${p.author.displayName}` : 'The Inkwell team'} · !${dateHtml(p.publishedAt)}</p>
    <p class="snippet">!${p.highlight}</p>
    !${p.tags.length ? html`<ul class="tags" aria-label="Tags">!${p.tags.map((t) => html`<li><a href="/tags/${t.slug}">${t.name}</a></li>`)}</ul>` : ''}
  </article>
</li>`,
  );
  return html`<h1>Search</h1>
!${form}
<p class="meta" role="status">!${o.results.length ? html`Results for “${o.q}”` : html`No published posts match “${o.q}”.`}</p>
<ol class="post-list">!${items}</ol>
<nav class="pager" aria-label="Pagination">!${o.prevHref ? html`<a href="${o.prevHref}" rel="prev">← Better matches</a>` : '<span></span>'}!${o.nextHref ? html`<a href="${o.nextHref}" rel="next">More results →</a>` : ''}</nav>`;
}
