import { html } from '../../lib/html.ts';
import { dateHtml } from '../../lib/dates.ts';
import { csrfField } from '../../platform/http/forms.ts';
import type { LinkInfo, LinkReport, RunSummary } from './crawl.service.ts';

// External URLs are shown as links an admin can try, but they pass nothing of ours along.
const outLink = (url: string) => html`<a href="${url}" rel="nofollow noopener noreferrer">${url}</a>`;

function postsHtml(l: LinkInfo): string {
  if (!l.posts.length) return '';
  return html`<ul class="tags">!${l.posts.map((p) => html`<li><a href="/posts/${p.slug}">${p.title}</a></li>`)}</ul>`;
}

function whyHtml(l: LinkInfo): string {
  if (l.status !== null) return html`HTTP ${l.status}!${l.finalUrl ? html`<br><small>after redirects to ${l.finalUrl}</small>` : ''}`;
  return html`${l.error ?? 'No response'}`;
}

function runHtml(run: RunSummary | null, running: boolean): string {
  if (!run) return html`<p>No check has run yet.</p>`;
  const state = run.finishedAt === null ? (running ? 'running now' : 'did not finish') : html`finished !${dateHtml(run.finishedAt)}`;
  return html`<p>Last check (${run.trigger === 'manual' ? 'started by an admin' : 'scheduled'}): started !${dateHtml(run.startedAt)}, !${state}.</p>
<ul>
  <li>${run.links} links in published posts; ${run.checked} checked</li>
  <li>${run.ok} fine, ${run.broken} broken (${run.newBroken} newly), ${run.redirects} redirected, ${run.skipped} disallowed by robots.txt</li>
  !${run.unreached ? html`<li>${run.unreached} left for the next check (time limit, or the site asked us to slow down)</li>` : ''}
  !${run.error ? html`<li>The check stopped early: ${run.error}</li>` : ''}
</ul>`;
}

/** /admin/links: what the link checker found, and a button to check now. */
export function adminLinksHtml(r: LinkReport, csrf: string): string {
  const broken = r.broken.length
    ? html`<table class="dash" id="broken"><thead><tr><th scope="col">Link</th><th scope="col">Problem</th><th scope="col">In posts</th><th scope="col" class="opt">First seen</th><th scope="col" class="opt">Last checked</th></tr></thead><tbody>
!${r.broken.map((l) => html`<tr><td>!${outLink(l.url)}</td><td>!${whyHtml(l)}</td><td>!${postsHtml(l)}</td><td class="opt">!${dateHtml(l.firstSeenAt)}</td><td class="opt">!${dateHtml(l.lastCheckedAt)}</td></tr>`)}
</tbody></table>`
    : html`<p>No broken links.</p>`;
  const redirects = r.redirects.length
    ? html`<table class="dash" id="redirects"><thead><tr><th scope="col">Link</th><th scope="col">Now ends at</th><th scope="col">In posts</th><th scope="col" class="opt">Last checked</th></tr></thead><tbody>
!${r.redirects.map((l) => html`<tr><td>!${outLink(l.url)}</td><td>→ !${outLink(l.finalUrl ?? '')}<br><small>${l.redirects} ${l.redirects === 1 ? 'redirect' : 'redirects'}, HTTP ${l.status ?? ''}</small></td><td>!${postsHtml(l)}</td><td class="opt">!${dateHtml(l.lastCheckedAt)}</td></tr>`)}
</tbody></table>`
    : html`<p>No links redirect.</p>`;
  const skipped = r.skipped.length
    ? html`<table class="dash" id="skipped"><thead><tr><th scope="col">Link</th><th scope="col">In posts</th><th scope="col" class="opt">First seen</th></tr></thead><tbody>
!${r.skipped.map((l) => html`<tr><td>!${outLink(l.url)}</td><td>!${postsHtml(l)}</td><td class="opt">!${dateHtml(l.firstSeenAt)}</td></tr>`)}
</tbody></table>`
    : html`<p>None.</p>`;
  return html`<h1>Links</h1>
<p>Every night Inkwell checks the links in published posts to other sites.</p>
<section aria-labelledby="run-h"><h2 id="run-h">Checks</h2>
!${runHtml(r.lastRun, r.running)}
!${r.counts.pending ? html`<p>${r.counts.pending} links have not been checked yet.</p>` : ''}
<form method="post" action="/admin/links/run" class="inline">!${csrfField(csrf)}<button type="submit"!${r.running ? ' disabled' : ''}>${r.running ? 'A check is running…' : 'Check links now'}</button></form>
</section>
<section aria-labelledby="broken-h"><h2 id="broken-h">Broken links (${r.counts.broken})</h2>
!${broken}</section>
<section aria-labelledby="redirects-h"><h2 id="redirects-h">Links that redirect (${r.counts.redirect})</h2>
<p>These still work, but point somewhere else now: update them to where they end.</p>
!${redirects}</section>
<section aria-labelledby="skipped-h"><h2 id="skipped-h">Not checked: robots.txt disallows (${r.counts.skipped})</h2>
!${skipped}</section>`;
}
