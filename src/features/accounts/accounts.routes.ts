import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors.ts';
import { sendPage } from '../../platform/http/layout.ts';
import type { AccountsService } from './accounts.service.ts';
import { loginHtml, setupHtml } from './views/forms.ts';

type Body = Record<string, unknown> | undefined;
const str = (b: Body, k: string) => (typeof b?.[k] === 'string' ? (b[k] as string) : '');

/** Only same-site paths, so a crafted ?next= can't send people elsewhere after login. */
function safeNext(raw: unknown): string {
  return typeof raw === 'string' && /^\/(?![/\\])/.test(raw) ? raw : '/admin/posts';
}

/** Login, logout and first-run setup pages. */
export async function accountsRoutes(app: FastifyInstance, opts: { accounts: AccountsService }) {
  const { accounts } = opts;

  const loginPage = (request: FastifyRequest, login: string, next: string, error: string | null) =>
    ({ title: 'Log in', body: loginHtml({ login, next, error, csrf: request.csrfToken() }) });

  app.get('/login', async (request, reply) => {
    const next = safeNext((request.query as Record<string, unknown>).next);
    if (request.user) return reply.code(303).redirect(next);
    return sendPage(request, reply, loginPage(request, '', next, null));
  });

  app.post('/login', {
    config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
  }, async (request, reply) => {
    const body = request.body as Body;
    const next = safeNext(body?.next);
    try {
      const userId = await accounts.authenticate(str(body, 'login'), str(body, 'password'));
      await reply.logIn(userId);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'invalid_credentials') throw err;
      return sendPage(request, reply, { ...loginPage(request, str(body, 'login'), next, err.message), status: 401 });
    }
    reply.setFlash('Welcome back');
    return reply.code(303).redirect(next);
  });

  app.post('/logout', async (request, reply) => {
    await reply.logOut();
    reply.setFlash('You are logged out');
    return reply.code(303).redirect('/');
  });

  const setupGuard = async (token: string) => {
    if (!(await accounts.checkSetupToken(token))) {
      throw new AppError('not_found', 'This setup link is invalid or was already used. Restart Inkwell for a new one while no admin exists, or run: npm run inkwell -- create-admin');
    }
  };

  app.get('/setup', async (request, reply) => {
    const token = String((request.query as Record<string, unknown>).token ?? '');
    await setupGuard(token);
    return sendPage(request, reply, { title: 'Set up', body: setupHtml({ token, values: {}, errors: [], csrf: request.csrfToken() }) });
  });

  app.post('/setup', { config: { rateLimit: { max: 10, timeWindow: '1 minute' } } }, async (request, reply) => {
    const body = request.body as Body;
    const token = str(body, 'token');
    await setupGuard(token);
    const values = { email: str(body, 'email'), username: str(body, 'username'), displayName: str(body, 'displayName') };
    let user: { id: number };
    try {
      user = await accounts.createUser({ ...values, password: str(body, 'password'), role: 'admin' });
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      return sendPage(request, reply, { title: 'Set up', status: 422, body: setupHtml({ token, values, errors: err.errors, csrf: request.csrfToken() }) });
    }
    await accounts.finishSetup();
    await reply.logIn(user.id);
    reply.setFlash('Your admin account is ready. Write your first post!');
    return reply.code(303).redirect('/admin/posts');
  });
}
