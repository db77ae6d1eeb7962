import type { AddressInfo } from 'node:net';
import type { FastifyInstance, InjectOptions } from 'fastify';

export interface ApiRequestOptions {
  /** A bearer token (sent as `Authorization: <scheme> <token>`). */
  token?: string;
  /** The Authorization scheme: `Bearer` for /api/v1, `Token` for the RealWorld API. */
  scheme?: 'Bearer' | 'Token';
  /** A JSON body; a string (or Buffer) is sent as is. */
  body?: unknown;
  /** More headers; these win over the defaults (a test may send another content type). */
  headers?: Record<string, string>;
  /** The client address (request.ip). */
  ip?: string;
}

/**
 * One API request over app.inject(), sent the way front ends send it (axios
 * instances, generated clients, Conduit apps): `Content-Type: application/json`
 * on every request, with a body or without one.
 */
export function apiRequest(app: FastifyInstance, method: string, url: string, opts: ApiRequestOptions = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.token !== undefined) headers.authorization = `${opts.scheme ?? 'Bearer'} ${opts.token}`;
  Object.assign(headers, opts.headers);
  const body = opts.body;
  const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const options: InjectOptions = { method: method as 'GET', url, headers, payload };
  if (opts.ip) options.remoteAddress = opts.ip;
  return app.inject(options);
}

/** Starts the app on a free loopback port and returns its base URL (http://127.0.0.1:<port>). */
export async function listenOnLoopback(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}
