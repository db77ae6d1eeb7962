import type { FastifyInstance } from 'fastify';
import { html } from '../../lib/html.ts';
import { sendPage } from '../../platform/http/layout.ts';

interface OpenApiDoc {
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}
interface Operation {
  summary?: string;
  description?: string;
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses?: Record<string, { description?: string }>;
  security?: unknown[];
}
interface Schema {
  type?: string | string[];
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  anyOf?: Schema[];
  $ref?: string;
  maxLength?: number;
  maximum?: number;
  minimum?: number;
  default?: unknown;
}

/** Escapes a description and shows its `backticked` words as code. */
function prose(text: string | undefined): string {
  return html`${text ?? ''}`.replace(/`([^`]+)`/g, '<code>$1</code>');
}

function typeOf(s: Schema | undefined): string {
  if (!s) return '';
  if (s.$ref) return s.$ref.replace(/^#\/components\/schemas\//, '');
  if (s.enum) return s.enum.map((e) => JSON.stringify(e)).join(' | ');
  if (s.anyOf) return s.anyOf.map(typeOf).join(' | ');
  if (s.type === 'array') return `${typeOf(s.items)}[]`;
  return Array.isArray(s.type) ? s.type.join(' | ') : (s.type ?? 'object');
}

function limits(s: Schema): string {
  const parts = [];
  if (s.maxLength !== undefined) parts.push(`at most ${s.maxLength} characters`);
  if (s.minimum !== undefined) parts.push(`min ${s.minimum}`);
  if (s.maximum !== undefined) parts.push(`max ${s.maximum}`);
  if (s.default !== undefined) parts.push(`default ${JSON.stringify(s.default)}`);
  return parts.join(', ');
}

function fieldsTable(schema: Schema): string {
  const props = Object.entries(schema.properties ?? {});
  if (props.length === 0) return '';
  const req = new Set(schema.required ?? []);
  return html`<table class="dash"><thead><tr><th scope="col">Field</th><th scope="col">Type</th><th scope="col">About</th></tr></thead><tbody>
!${props.map(([name, s]) => html`<tr><td><code>${name}</code>${req.has(name) ? ' (required)' : ''}</td><td><code>${typeOf(s)}</code></td><td>!${prose(s.description)} ${limits(s)}</td></tr>`)}
</tbody></table>`;
}

/** A readable, server-rendered reference of the API, from the same OpenAPI document clients get. */
function referenceHtml(doc: OpenApiDoc): string {
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  );
  const anchor = (m: string, p: string) => `${m}-${p}`.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return html`<h1>${doc.info.title} <small>${doc.info.version}</small></h1>
<p>!${prose(doc.info.description)}</p>
<p>Machine-readable: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI 3.1).</p>
<h2>Endpoints</h2>
<ul>!${ops.map((o) => html`<li><a href="#${anchor(o.method, o.path)}"><code>${o.method} ${o.path}</code></a> — ${o.op.summary ?? ''}</li>`)}</ul>
!${ops.map((o) => {
    const body = o.op.requestBody?.content['application/json']?.schema;
    return html`<section id="${anchor(o.method, o.path)}">
<h3><code>${o.method} ${o.path}</code></h3>
<p><strong>${o.op.summary ?? ''}</strong> !${prose(o.op.description)}</p>
${o.op.security ? 'Authentication: Authorization: Bearer <token>, or a session cookie with an X-CSRF-Token header.' : ''}
!${o.op.parameters?.length ? html`<h4>Parameters</h4><table class="dash"><tbody>!${o.op.parameters.map((p) => html`<tr><td><code>${p.name}</code> (${p.in}${p.required ? ', required' : ''})</td><td><code>${typeOf(p.schema)}</code></td><td>!${prose(p.description ?? p.schema?.description)} ${p.schema ? limits(p.schema) : ''}</td></tr>`)}</tbody></table>` : ''}
!${body ? html`<h4>JSON body</h4><p>!${prose(body.description)}</p>!${fieldsTable(body)}` : ''}
<h4>Responses</h4><ul>!${Object.entries(o.op.responses ?? {}).map(([code, r]) => html`<li><code>${code}</code> !${prose(r.description)}</li>`)}</ul>
</section>`;
  })}
!${Object.entries(doc.components?.schemas ?? {}).map(([name, s]) => html`<section id="schema-${name.toLowerCase()}"><h2>${name}</h2><p>!${prose(s.description)}</p>!${fieldsTable(s)}</section>`)}`;
}

/** GET /api/v1/openapi.json and the reference page at /api/docs. */
export async function apiDocsRoutes(app: FastifyInstance) {
  app.get('/api/v1/openapi.json', async () => app.swagger());
  let page: string | undefined;
  app.get('/api/docs', async (request, reply) => {
    page ??= referenceHtml(app.swagger() as unknown as OpenApiDoc);
    return sendPage(request, reply, { title: 'API reference', body: page });
  });
}
