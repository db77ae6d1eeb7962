import type { FastifyInstance } from 'fastify';

export interface Response {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  json<T = any>(): T;
}

/**
 * A cookie-keeping client over app.inject(), for HTML form flows: it stores
 * cookies like a browser and can pull the CSRF token out of the last page.
 */
export class Client {
  cookies = new Map<string, string>();
  lastBody = '';
  private readonly app: FastifyInstance;

  constructor(app: FastifyInstance) {
    this.app = app;
  }

  private cookieHeader(): string | undefined {
    return this.cookies.size ? [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
  }

  async request(
    method: string,
    url: string,
    opts: { form?: Record<string, string>; json?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...opts.headers };
    const cookie = this.cookieHeader();
    if (cookie) headers.cookie = cookie;
    let payload: string | undefined;
    if (opts.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = new URLSearchParams(opts.form).toString();
    } else if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(opts.json);
    }
    const res = await this.app.inject({ method: method as 'GET', url, headers, payload });
    for (const c of res.cookies as { name: string; value: string; maxAge?: number; expires?: Date }[]) {
      const expired = c.maxAge === 0 || (c.expires && c.expires.getTime() < Date.now()) || c.value === '';
      if (expired) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    this.lastBody = res.body;
    return { status: res.statusCode, headers: res.headers, body: res.body, json: () => res.json() };
  }

  get(url: string) {
    return this.request('GET', url);
  }

  /** The CSRF token of the last page shown (from a form field or the meta tag). */
  csrf(): string {
    const m = /name="_csrf" value="([^"]+)"/.exec(this.lastBody) ?? /name="csrf-token" content="([^"]+)"/.exec(this.lastBody);
    if (!m) throw new Error('no CSRF token on the last page');
    return m[1];
  }

  /** Submits a form with the CSRF token of the page last loaded. */
  postForm(url: string, fields: Record<string, string>) {
    return this.request('POST', url, { form: { _csrf: this.csrf(), ...fields } });
  }

  /** Logs in through the login form. */
  async login(login: string, password: string): Promise<Response> {
    await this.get('/login');
    return this.postForm('/login', { login, password });
  }
}
