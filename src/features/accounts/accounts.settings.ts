import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors.ts';
import { requireUser } from '../../platform/http/auth.ts';
import type { Static, TSchema } from 'typebox';
import { submittedValue } from '../../platform/http/forms.ts';
import { readInput, submittedValues } from '../../platform/http/input.ts';
import { sendPage } from '../../platform/http/layout.ts';
import { AccountDeleteSchema, EmailChangeSchema, PasswordChangeSchema, ProfilePatchSchema, TokenCreateSchema } from './accounts.schema.ts';
import type { AccountsService } from './accounts.service.ts';
import { settingsHtml, type Section, type SettingsView } from './views/settings.ts';
import { revokeTokensHtml } from './views/forms.ts';

type Body = Record<string, unknown> | undefined;

/** The signed-in person's own account: profile, email, password, API tokens, deletion. */
export async function settingsRoutes(app: FastifyInstance, opts: { accounts: AccountsService; more?: (request: FastifyRequest) => Promise<string> }) {
  const { accounts } = opts;

  async function page(request: FastifyRequest, reply: FastifyReply, extra: Partial<SettingsView> = {}, status = 200) {
    const user = requireUser(request);
    const [account, tokens] = await Promise.all([accounts.me(user.id), accounts.listApiTokens(user.id)]);
    return sendPage(request, reply, {
      title: 'Account settings',
      status,
      body: settingsHtml({ account, tokens, csrf: request.csrfToken(), more: opts.more ? await opts.more(request) : '', ...extra }),
    });
  }

  /**
   * Runs a settings change: the section's command read by its schema, then the
   * service; fixable errors re-render the page with that form's errors (422),
   * what was typed kept (passwords never).
   */
  async function change<T extends TSchema>(
    request: FastifyRequest,
    reply: FastifyReply,
    section: Section,
    schema: T,
    run: (userId: number, input: Static<T>) => Promise<string | undefined>,
    redirectTo = `/settings#${section}-h`,
  ) {
    const user = requireUser(request);
    let flash: string | undefined;
    try {
      flash = await run(user.id, readInput(request, schema));
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      const values = Object.fromEntries(Object.entries(submittedValues(request)).map(([k, v]) => [k, [v].flat()[0] ?? '']));
      return page(request, reply, { failed: { section, errors: err.errors, values } }, 422);
    }
    if (flash) reply.setFlash(flash);
    return reply.code(303).redirect(redirectTo);
  }

  app.get('/settings', async (request, reply) => page(request, reply));

  app.post('/settings/profile', async (request, reply) =>
    change(request, reply, 'profile', ProfilePatchSchema, async (id, input) => {
      await accounts.updateProfile(id, input);
      return 'Profile saved';
    }),
  );

  app.post('/settings/email', async (request, reply) =>
    change(request, reply, 'email', EmailChangeSchema, async (id, input) => {
      await accounts.requestEmailChange(id, input.email, input.password);
      return `We sent a confirmation link to ${input.email.trim().toLowerCase()}. Your address changes once you follow it.`;
    }),
  );

  app.get<{ Params: { token: string } }>('/settings/email/:token', async (request, reply) => {
    await accounts.confirmEmailChange(request.params.token);
    reply.setFlash('Your new email address is confirmed.');
    return reply.code(303).redirect(request.user ? '/settings' : '/login');
  });

  app.post('/settings/password', async (request, reply) =>
    change(request, reply, 'password', PasswordChangeSchema, async (id, input) => {
      await accounts.changePassword(id, input.currentPassword, input.newPassword, { sessionToken: request.sessionToken });
      return 'Password changed. Your other sessions were logged out.';
    }),
  );

  app.post('/settings/tokens', async (request, reply) => {
    const user = requireUser(request);
    try {
      const input = readInput(request, TokenCreateSchema);
      const { token } = await accounts.createApiToken(user.id, input.name, input.scopes);
      // Shown in this response only: it is never stored or sent again.
      return page(request, reply, { newToken: token }, 201);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      const values = { name: submittedValue(submittedValues(request), 'name') ?? '' };
      return page(request, reply, { failed: { section: 'tokens', errors: err.errors, values } }, 422);
    }
  });

  const revoke = async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const user = requireUser(request);
    const id = /^\d{1,9}$/.test(request.params.id) ? Number(request.params.id) : NaN;
    if (Number.isNaN(id)) throw new AppError('not_found', 'No such token');
    await accounts.revokeApiToken(user.id, id);
    reply.setFlash('Token revoked');
    return reply.code(303).redirect('/settings#tokens-h');
  };
  app.delete<{ Params: { id: string } }>('/settings/tokens/:id', revoke);
  app.post<{ Params: { id: string } }>('/settings/tokens/:id', async (request, reply) => {
    if (String((request.body as Body)?._method ?? '').toUpperCase() !== 'DELETE') throw new AppError('method_not_allowed');
    return revoke(request, reply);
  });

  // The link in a password notice: the URL is the credential (no login needed,
  // since the person may be locked out), but only the confirmation page's POST
  // revokes, because mail scanners and link previews fetch every GET link.
  app.get<{ Params: { token: string } }>('/settings/tokens/revoke/:token', async (request, reply) => {
    const { count } = await accounts.checkRevokeLink(request.params.token);
    return sendPage(request, reply, { title: 'Revoke your tokens', body: revokeTokensHtml({ token: request.params.token, count, csrf: request.csrfToken() }) });
  });
  app.post<{ Params: { token: string } }>('/settings/tokens/revoke/:token', async (request, reply) => {
    const { count } = await accounts.revokeByLink(request.params.token);
    reply.setFlash(count === 1 ? 'One personal access token was revoked.' : `${count} personal access tokens were revoked.`);
    return reply.code(303).redirect(request.user ? '/settings#tokens-h' : '/login');
  });

  app.post('/settings/delete', async (request, reply) =>
    change(
      request,
      reply,
      'delete',
      AccountDeleteSchema,
      async (id, input) => {
        await accounts.deleteAccount(id, input.password);
        await reply.logOut();
        return 'Your account was deleted.';
      },
      '/',
    ),
  );
}
