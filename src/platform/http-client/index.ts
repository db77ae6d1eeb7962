import { promises as dns, type LookupAddress } from 'node:dns';
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { isIP, type LookupFunction } from 'node:net';
import { isPublicAddress, OutboundError, parseTarget } from './guard.ts';

// Required, not imported: an ES import of node:http reads every export to build
// the module namespace, and its WebSocket/CloseEvent/MessageEvent getters load
// undici (~13 ms of start-up) for nothing here.
const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');

export { isPublicAddress, OutboundError, type OutboundErrorCode } from './guard.ts';

export interface OutboundRequest {
  /** Defaults to GET. */
  method?: string;
  /** Names are case-insensitive. Host always comes from the URL; Cookie is never sent. */
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** The whole request, DNS and redirects included; default 10 s. */
  timeoutMs?: number;
  /** Response body cap; default 1 MiB. The excess is cut off and `truncated` set. */
  maxBytes?: number;
  /** Default 5; 0 means do not follow and return the 3xx itself. */
  maxRedirects?: number;
}

export interface OutboundResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  truncated: boolean;
  /** The final URL, after redirects. */
  url: string;
  /** Each Location followed, made absolute. */
  redirects: string[];
  durationMs: number;
}

export interface HttpClient {
  /** Sends one request, following redirects; rejects only with OutboundError (or TypeError for an invalid header or method). */
  request(url: string, req?: OutboundRequest): Promise<OutboundResponse>;
}

export interface HttpClientOptions {
  /** Lifts only the address rule (tests and local development: ALLOW_PRIVATE_OUTBOUND=1). */
  allowPrivate?: boolean;
  userAgent: string;
  /** TEST ONLY: replaces isPublicAddress as the address rule, so tests can allow one loopback server and nothing else. */
  isAllowed?: (ip: string) => boolean;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Headers that describe a body, dropped when a redirect turns the request into a bodiless GET.
const BODY_HEADERS = ['content-length', 'content-type', 'content-encoding', 'content-language', 'content-location', 'transfer-encoding'];
// Credentials meant for one origin must not follow a redirect to another.
const ORIGIN_HEADERS = ['authorization', 'proxy-authorization'];

/** Rejects with the signal's reason as soon as it aborts, so a slow DNS lookup cannot outlive the deadline. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Sends one request to exactly the given (already checked) addresses and waits for the response head. */
function send(
  url: URL,
  host: string,
  addresses: LookupAddress[],
  method: string,
  headers: Record<string, string>,
  body: string | Buffer | undefined,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  // Node asks this instead of DNS, so the socket can only go where the check looked:
  // a second, different DNS answer (rebinding) never reaches the connect.
  const lookup: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0].address, addresses[0].family);
  };
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(
      {
        hostname: host,
        port: url.port || undefined,
        path: url.pathname + url.search,
        method,
        headers,
        signal,
        lookup,
        // A fresh socket per request that closes afterwards: nothing lingers, and no pooled
        // socket to an earlier address can be reused for a later, differently resolved host.
        agent: false,
        servername: isIP(host) ? undefined : host,
      },
      resolve,
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Reads the body up to `maxBytes`, then stops reading and closes the connection. */
function readBody(res: IncomingMessage, maxBytes: number): Promise<{ body: Buffer; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (truncated: boolean) => {
      settled = true;
      resolve({ body: Buffer.concat(chunks, size), truncated });
    };
    res.on('data', (chunk: Buffer) => {
      if (settled) return;
      if (chunk.length > maxBytes - size) {
        chunks.push(chunk.subarray(0, maxBytes - size));
        size = maxBytes;
        finish(true);
        res.destroy();
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      reject(e);
    };
    res.on('end', () => settled || finish(false));
    res.on('error', fail);
    // 'close' without 'end': the peer or our deadline cut the body short.
    res.on('close', () => fail(new Error('The connection closed before the body was complete')));
  });
}

/** Joins repeated headers so every value is one string. */
function flatHeaders(res: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** The one client for all outgoing HTTP: refuses private addresses, follows redirects by hand, caps time and size. */
export function createHttpClient(opts: HttpClientOptions): HttpClient {
  const allowed = opts.allowPrivate ? () => true : (opts.isAllowed ?? isPublicAddress);

  /** Resolves the URL's host and refuses it if ANY address is not allowed (DNS may answer differently at connect time). */
  async function addressesOf(url: URL, signal: AbortSignal): Promise<{ host: string; addresses: LookupAddress[] }> {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const family = isIP(host);
    let addresses: LookupAddress[];
    if (family) addresses = [{ address: host, family }];
    else {
      try {
        addresses = await untilAborted(dns.lookup(host, { all: true }), signal);
      } catch (e) {
        if (signal.aborted) throw e;
        throw new OutboundError('network', url.href, `Could not resolve ${host}`, { cause: e });
      }
    }
    if (addresses.length === 0) throw new OutboundError('network', url.href, `Could not resolve ${host}`);
    const refused = addresses.find((a) => !allowed(a.address));
    if (refused) throw new OutboundError('blocked', url.href, `Refused to contact ${refused.address}: not a public address`);
    return { host, addresses };
  }

  return {
    async request(rawUrl, req = {}) {
      const started = performance.now();
      const timeoutMs = req.timeoutMs ?? 10_000;
      const maxBytes = req.maxBytes ?? 1024 * 1024;
      const maxRedirects = req.maxRedirects ?? 5;
      let url = parseTarget(rawUrl);
      let method = (req.method ?? 'GET').toUpperCase();
      if (!TOKEN.test(method)) throw new TypeError(`Invalid HTTP method ${JSON.stringify(method)}`);
      let body = req.body;
      let headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers ?? {})) headers[name.toLowerCase()] = value;
      delete headers.cookie;
      headers['user-agent'] ??= opts.userAgent;
      const redirects: string[] = [];
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), timeoutMs);
      try {
        for (;;) {
          const { host, addresses } = await addressesOf(url, controller.signal);
          headers.host = url.host;
          if (body !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(body));
          const res = await send(url, host, addresses, method, headers, body, controller.signal);
          const status = res.statusCode ?? 0;
          const location = res.headers.location;
          if (REDIRECTS.has(status) && location !== undefined && maxRedirects > 0) {
            res.destroy();
            if (redirects.length >= maxRedirects) throw new OutboundError('too_many_redirects', url.href, `More than ${maxRedirects} redirects`);
            const next = parseTarget(location, url);
            // As browsers do: 303 always, and 301/302 after a POST, become a GET without a body.
            if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
              method = 'GET';
              body = undefined;
              headers = Object.fromEntries(Object.entries(headers).filter(([name]) => !BODY_HEADERS.includes(name)));
            }
            if (next.origin !== url.origin) headers = Object.fromEntries(Object.entries(headers).filter(([name]) => !ORIGIN_HEADERS.includes(name)));
            redirects.push(next.href);
            url = next;
            continue;
          }
          const read = await readBody(res, maxBytes);
          return { status, headers: flatHeaders(res), ...read, url: url.href, redirects, durationMs: performance.now() - started };
        }
      } catch (e) {
        if (e instanceof OutboundError || e instanceof TypeError) throw e;
        if (controller.signal.aborted) throw new OutboundError('timeout', url.href, `No complete answer within ${timeoutMs} ms`, { cause: e });
        throw new OutboundError('network', url.href, `Request failed: ${(e as Error).message}`, { cause: e });
      } finally {
        clearTimeout(timer);
        // Whatever is still open for this request (an abandoned response) is torn down with it.
        controller.abort();
      }
    },
  };
}
