import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireUser } from '../../platform/http/auth.ts';
import { problems } from '../../platform/http/problem.schema.ts';
import { AppError } from '../../platform/errors.ts';
import { bodyField, limit } from '../../platform/http/rate-limit.ts';
import { createLoginLimiter } from './accounts.login-limit.ts';
import type { AccountsService } from './accounts.service.ts';
import {
  AccountSchema,
  EmailChangeSchema,
  ForgotSchema,
  LoginSchema,
  PasswordChangeSchema,
  ProfilePatchSchema,
  ProfileSchema,
  ResetSchema,
  SessionSchema,
  SignupSchema,
  TokenCreateSchema,
  TokenSchema,
  VerifySchema,
} from './accounts.schema.ts';

const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { cookieAuth: [] }];
const accepted = Type.Object({ status: Type.String({ description: 'Always "accepted".' }) }, { description: 'Accepted.' });

/** The account actions a front end needs, under /api/v1. */
export async function accountsApi(root: FastifyInstance, opts: { accounts: AccountsService }) {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { accounts } = opts;

  app.post(
    '/users',
    {
      preHandler: limit(app, 'signup-ip', { max: 20, timeWindow: '1 hour' }),
      schema: {
        tags: ['accounts'],
        summary: 'Sign up',
        body: SignupSchema,
        description: 'Open blogs mail a confirmation link; invite-only blogs need `invite`. Log in afterwards with POST /api/v1/sessions.',
        response: { 201: AccountSchema, ...problems(400, 403, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const created = await accounts.signup(request.body);
      const account = await accounts.me(created.id);
      return reply.code(201).header('location', `/api/v1/users/${account.username}`).send(account);
    },
  );

  app.get(
    '/users/:username',
    {
      schema: {
        tags: ['accounts'],
        summary: 'A public profile',
        params: Type.Object({ username: Type.String({ maxLength: 100, description: 'The username.' }) }),
        response: { 200: ProfileSchema, ...problems(404) },
      },
    },
    async (request) => accounts.profile(request.params.username),
  );

  const logins = createLoginLimiter(app.counters, (login) => accounts.findUserId(login));
  app.post(
    '/sessions',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Log in (get a bearer token)',
        body: LoginSchema,
        description: 'Wrong password and unknown account get the same 401.',
        response: { 201: SessionSchema, ...problems(401, 403, 422, 429) },
      },
    },
    async (request, reply) => {
      const attempt = await logins.begin(request, reply, request.body.login);
      const s = await accounts.apiLogin(request.body.login, request.body.password).catch(async (e) => {
        if (e instanceof AppError && e.code === 'account_suspended') await attempt.succeeded();
        throw e;
      });
      await attempt.succeeded();
      return reply.code(201).send({ token: s.token, expiresAt: s.expiresAt, user: await accounts.me(s.userId) });
    },
  );

  app.delete(
    '/sessions/current',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Log out',
        security,
        description: 'Revokes the bearer token used, or ends the cookie session.',
        response: { 204: Type.Null({ description: 'Done.' }), ...problems(401) },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      if (request.authVia === 'token' && request.apiTokenId !== null) await accounts.revokeApiToken(user.id, request.apiTokenId);
      else await reply.logOut();
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/me',
    {
      schema: { tags: ['accounts'], summary: 'Your account', security, response: { 200: AccountSchema, ...problems(401) } },
    },
    async (request) => accounts.me(requireUser(request).id),
  );

  app.patch(
    '/me',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Change your profile',
        security,
        body: ProfilePatchSchema,
        response: { 200: AccountSchema, ...problems(401, 403, 422) },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const b = request.body;
      await accounts.updateProfile(user.id, {
        displayName: b.displayName,
        bio: b.bio === null ? '' : b.bio,
        avatarUrl: b.avatarUrl === null ? '' : b.avatarUrl,
      });
      return accounts.me(user.id);
    },
  );

  app.post(
    '/me/password',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Change your password',
        security,
        body: PasswordChangeSchema,
        response: { 204: Type.Null({ description: 'Changed; other sessions ended.' }), ...problems(401, 403, 422) },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      await accounts.changePassword(user.id, request.body.currentPassword, request.body.newPassword, {
        sessionToken: request.sessionToken,
        apiTokenId: request.apiTokenId,
      });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/me/email',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Change your email address',
        security,
        body: EmailChangeSchema,
        response: { 202: accepted, ...problems(401, 403, 422) },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      await accounts.requestEmailChange(user.id, request.body.email, request.body.password);
      return reply.code(202).send({ status: 'accepted' });
    },
  );

  app.post(
    '/me/verification',
    {
      preHandler: [
        limit(app, 'verify-ip', { max: 10, timeWindow: '1 hour' }),
        limit(app, 'verify-account', { max: 3, timeWindow: '15 minutes', key: (r) => (r.user ? String(r.user.id) : undefined) }),
      ],
      schema: { tags: ['accounts'], summary: 'Send the confirmation link again', security, response: { 202: accepted, ...problems(401, 409, 429) } },
    },
    async (request, reply) => {
      await accounts.resendVerification(requireUser(request).id);
      return reply.code(202).send({ status: 'accepted' });
    },
  );

  app.post(
    '/verification',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Confirm an email address',
        body: VerifySchema,
        response: { 204: Type.Null({ description: 'Confirmed.' }), ...problems(400, 422) },
      },
    },
    async (request, reply) => {
      await accounts.verifyEmail(request.body.token);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/password/forgot',
    {
      preHandler: [
        limit(app, 'forgot-ip', { max: 10, timeWindow: '15 minutes' }),
        limit(app, 'forgot-account', { max: 3, timeWindow: '15 minutes', key: bodyField('email') }),
      ],
      schema: {
        tags: ['accounts'],
        summary: 'Ask for a password reset link',
        body: ForgotSchema,
        description: 'Answers 202 whether or not the address has an account.',
        response: { 202: accepted, ...problems(422, 429) },
      },
    },
    async (request, reply) => {
      await accounts.requestPasswordReset(request.body.email);
      return reply.code(202).send({ status: 'accepted' });
    },
  );

  app.post(
    '/password/reset',
    {
      preHandler: limit(app, 'reset-ip', { max: 20, timeWindow: '15 minutes' }),
      schema: {
        tags: ['accounts'],
        summary: 'Set a new password with a reset token',
        body: ResetSchema,
        response: { 204: Type.Null({ description: 'Changed; every session ended.' }), ...problems(400, 422, 429) },
      },
    },
    async (request, reply) => {
      await logins.clear(await accounts.resetPassword(request.body.token, request.body.password));
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/me/tokens',
    {
      schema: { tags: ['accounts'], summary: 'Your API tokens', security, response: { 200: Type.Array(TokenSchema), ...problems(401) } },
    },
    async (request) => accounts.listApiTokens(requireUser(request).id),
  );

  app.post(
    '/me/tokens',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Create an API token',
        security,
        body: TokenCreateSchema,
        response: {
          201: Type.Object({ token: Type.String({ description: 'Shown once.' }), id: Type.Integer({ description: 'Token id.' }) }),
          ...problems(401, 422),
        },
      },
    },
    async (request, reply) => {
      const created = await accounts.createApiToken(requireUser(request).id, request.body.name, request.body.scopes);
      return reply.code(201).send(created);
    },
  );

  app.delete(
    '/me/tokens/:id',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Revoke an API token',
        security,
        params: Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647, description: 'Token id.' }) }),
        response: { 204: Type.Null({ description: 'Revoked.' }), ...problems(401, 404) },
      },
    },
    async (request, reply) => {
      await accounts.revokeApiToken(requireUser(request).id, request.params.id);
      return reply.code(204).send(null);
    },
  );
}
