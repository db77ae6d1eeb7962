import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors.ts';
import { requireUser, sameSitePath } from '../../platform/http/auth.ts';
import { submittedValue } from '../../platform/http/forms.ts';
import { readInput, submittedValues } from '../../platform/http/input.ts';
import { sendPage } from '../../platform/http/layout.ts';
import { bodyField, limit } from '../../platform/http/rate-limit.ts';
import { createLoginLimiter } from './accounts.login-limit.ts';
import { ForgotSchema, LoginSchema, ResetSchema, SignupSchema } from './accounts.schema.ts';
import type { AccountsService } from './accounts.service.ts';
import { forgotHtml, loginHtml, resetHtml, setupHtml, signupHtml } from './views/forms.ts';

type TokenParams = { Params: { token: string } };

/** What was typed into a form (never a password), each field's first value, to show it again. */
function typed(request: FastifyRequest): Record<string, string> {
  return Object.fromEntries(Object.entries(submittedValues(request)).map(([k, v]) => [k, [v].flat()[0] ?? '']));
}

/** Where to go after logging in: a same-site path from ?next= (hostile values go home), or the dashboard. */
function safeNext(raw: unknown): string {
  return raw === undefined || raw === '' ? '/admin/posts' : sameSitePath(raw, '/');
}

/** Re-renders a form for the errors a person can fix; anything else propagates. */
function fieldErrors(err: unknown, codes: string[] = ['validation_failed']) {
  if (err instanceof AppError && codes.includes(err.code)) return err;
  throw err;
}

/** Pages anyone can reach: log in and out, first-run setup, sign up, verify, reset a password. */
export async function accountsRoutes(app: FastifyInstance, opts: { accounts: AccountsService }) {
  const { accounts } = opts;

  const loginPage = (request: FastifyRequest, login: string, next: string, error: string | null) => ({
    title: 'Log in',
    body: loginHtml({ login, next, error, csrf: request.csrfToken() }),
  });

  app.get('/login', async (request, reply) => {
    const next = safeNext((request.query as Record<string, unknown>).next);
    if (request.user) return reply.code(303).redirect(next);
    return sendPage(request, reply, loginPage(request, '', next, null));
  });

  const logins = createLoginLimiter(app.counters, (login) => accounts.findUserId(login));
  app.post('/login', async (request, reply) => {
    // The page's own field: where to go next.
    const next = safeNext(submittedValue(submittedValues(request), 'next'));
    const sent = submittedValue(submittedValues(request), 'login') ?? '';
    const attempt = await logins.begin(request, reply, sent);
    try {
      const input = readInput(request, LoginSchema);
      const userId = await accounts.authenticate(input.login, input.password);
      await attempt.succeeded();
      await reply.logIn(userId);
    } catch (err) {
      const e = fieldErrors(err, ['invalid_credentials', 'account_suspended', 'validation_failed']);
      if (e.code === 'account_suspended') await attempt.succeeded();
      return sendPage(request, reply, { ...loginPage(request, sent, next, e.message), status: e.status });
    }
    reply.setFlash('Welcome back');
    return reply.code(303).redirect(next);
  });

  app.post('/logout', async (_request, reply) => {
    await reply.logOut();
    reply.setFlash('You are logged out');
    return reply.code(303).redirect('/');
  });

  const setupGuard = async (token: string) => {
    if (!(await accounts.checkSetupToken(token))) {
      throw new AppError(
        'not_found',
        'This setup link is invalid or was already used. Restart Inkwell for a new one while no admin exists, or run: npm run inkwell -- create-admin',
      );
    }
  };

  app.get('/setup', async (request, reply) => {
    const token = String((request.query as Record<string, unknown>).token ?? '');
    await setupGuard(token);
    return sendPage(request, reply, { title: 'Set up', body: setupHtml({ token, values: {}, errors: [], csrf: request.csrfToken() }) });
  });

  app.post('/setup', { preHandler: limit(app, 'setup', { max: 10, timeWindow: '1 minute' }) }, async (request, reply) => {
    const token = submittedValue(submittedValues(request), 'token') ?? '';
    await setupGuard(token);
    let user: { id: number };
    try {
      const input = readInput(request, SignupSchema);
      user = await accounts.createUser({
        email: input.email,
        username: input.username,
        displayName: input.displayName ?? '',
        password: input.password,
        role: 'admin',
      });
    } catch (err) {
      const e = fieldErrors(err);
      return sendPage(request, reply, {
        title: 'Set up',
        status: 422,
        body: setupHtml({ token, values: typed(request), errors: e.errors, csrf: request.csrfToken() }),
      });
    }
    await accounts.finishSetup();
    await reply.logIn(user.id);
    reply.setFlash('Your admin account is ready. Write your first post!');
    return reply.code(303).redirect('/admin/posts');
  });

  // ---- sign-up and verification ----

  const signupPage = async (request: FastifyRequest, inviteToken: string, values: Record<string, string>, errors: AppError['errors']) => {
    const invite = inviteToken ? { token: inviteToken, ...(await accounts.invitation(inviteToken)) } : undefined;
    return { title: 'Sign up', body: signupHtml({ values, errors, csrf: request.csrfToken(), invite }) };
  };

  app.get('/signup', async (request, reply) => {
    if (request.user) return reply.code(303).redirect('/');
    const invite = String((request.query as Record<string, unknown>).invite ?? '');
    if (!invite && (await accounts.signupMode()) !== 'open') {
      throw new AppError('signup_closed', (await accounts.signupMode()) === 'invite' ? 'This blog takes new members by invitation only' : undefined);
    }
    return sendPage(request, reply, await signupPage(request, invite, {}, []));
  });

  app.post('/signup', { preHandler: limit(app, 'signup-ip', { max: 20, timeWindow: '1 hour' }) }, async (request, reply) => {
    const values = typed(request);
    const invite = values.invite ?? '';
    let created: { id: number; verified: boolean };
    let email: string;
    try {
      const input = readInput(request, SignupSchema);
      email = input.email;
      created = await accounts.signup({ ...input, displayName: input.displayName ?? '', invite: input.invite || undefined });
    } catch (err) {
      const e = fieldErrors(err);
      return sendPage(request, reply, { ...(await signupPage(request, invite, values, e.errors)), status: 422 });
    }
    await reply.logIn(created.id);
    reply.setFlash(
      created.verified ? 'Welcome! Your account is ready.' : `Welcome! We sent a link to ${email.trim().toLowerCase()}: follow it to confirm your address.`,
    );
    return reply.code(303).redirect('/settings');
  });

  app.get<TokenParams>('/verify/:token', async (request, reply) => {
    await accounts.verifyEmail(request.params.token);
    reply.setFlash('Your email address is confirmed.');
    return reply.code(303).redirect(request.user ? '/settings' : '/login');
  });

  app.post(
    '/verify/resend',
    {
      preHandler: [
        limit(app, 'verify-ip', { max: 10, timeWindow: '1 hour' }),
        limit(app, 'verify-account', { max: 3, timeWindow: '15 minutes', key: (r) => (r.user ? String(r.user.id) : undefined) }),
      ],
    },
    async (request, reply) => {
      const user = requireUser(request);
      await accounts.resendVerification(user.id);
      reply.setFlash(`A new confirmation link is on its way to ${user.email}.`);
      return reply.code(303).redirect('/settings');
    },
  );

  // ---- password reset ----

  app.get('/password/forgot', async (request, reply) => {
    return sendPage(request, reply, { title: 'Forgot your password?', body: forgotHtml({ email: '', errors: [], csrf: request.csrfToken(), sent: false }) });
  });

  app.post(
    '/password/forgot',
    {
      preHandler: [
        limit(app, 'forgot-ip', { max: 10, timeWindow: '15 minutes' }),
        limit(app, 'forgot-account', { max: 3, timeWindow: '15 minutes', key: bodyField('email') }),
      ],
    },
    async (request, reply) => {
      try {
        await accounts.requestPasswordReset(readInput(request, ForgotSchema).email);
      } catch (err) {
        const e = fieldErrors(err);
        return sendPage(request, reply, {
          title: 'Forgot your password?',
          status: 422,
          body: forgotHtml({ email: typed(request).email ?? '', errors: e.errors, csrf: request.csrfToken(), sent: false }),
        });
      }
      // The same page whether or not the address has an account.
      return sendPage(request, reply, { title: 'Forgot your password?', body: forgotHtml({ email: '', errors: [], csrf: request.csrfToken(), sent: true }) });
    },
  );

  app.get<TokenParams>('/password/reset/:token', async (request, reply) => {
    await accounts.checkResetToken(request.params.token);
    return sendPage(request, reply, {
      title: 'Choose a new password',
      body: resetHtml({ token: request.params.token, errors: [], csrf: request.csrfToken() }),
    });
  });

  app.post<TokenParams>('/password/reset/:token', { preHandler: limit(app, 'reset-ip', { max: 20, timeWindow: '15 minutes' }) }, async (request, reply) => {
    const { token } = request.params;
    let userId: number;
    try {
      // The token is the link's; the form sends the password.
      userId = await accounts.resetPassword(token, readInput(request, ResetSchema, { defaults: { token } }).password);
      await logins.clear(userId);
    } catch (err) {
      const e = fieldErrors(err);
      return sendPage(request, reply, { title: 'Choose a new password', status: 422, body: resetHtml({ token, errors: e.errors, csrf: request.csrfToken() }) });
    }
    await reply.logIn(userId);
    reply.setFlash('Your password is changed, and your other sessions were ended.');
    return reply.code(303).redirect('/settings');
  });
}
