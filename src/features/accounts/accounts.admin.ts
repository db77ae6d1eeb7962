import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors.ts';
import { requireAdmin } from '../../platform/http/auth.ts';
import { submittedValue } from '../../platform/http/forms.ts';
import { readInput, submittedValues } from '../../platform/http/input.ts';
import { sendPage } from '../../platform/http/layout.ts';
import { InviteSchema, RoleChangeSchema, SignupModeSchema, SuspendSchema } from './accounts.schema.ts';
import type { AccountsService } from './accounts.service.ts';
import { adminUsersHtml } from './views/admin-users.ts';

type IdParams = { Params: { id: string } };
const PAGE = 50;

function idParam(raw: string): number {
  if (!/^\d{1,9}$/.test(raw)) throw new AppError('not_found', 'No such user');
  return Number(raw);
}

/** /admin/users: roles, suspension, invitations and who may sign up. */
export async function adminUsersRoutes(app: FastifyInstance, opts: { accounts: AccountsService }) {
  const { accounts } = opts;

  async function page(request: FastifyRequest, reply: FastifyReply, invite = { errors: [] as AppError['errors'], email: '', role: 'author' }, status = 200) {
    const me = requireAdmin(request, 'Only admins manage users');
    const raw = (request.query as Record<string, unknown>).before;
    const before = typeof raw === 'string' && /^\d{1,9}$/.test(raw) ? Number(raw) : undefined;
    const { users, hasMore } = await accounts.listUsers({ before, limit: PAGE });
    return sendPage(request, reply, {
      title: 'Users',
      status,
      body: adminUsersHtml({
        users,
        me: me.id,
        csrf: request.csrfToken(),
        mode: await accounts.signupMode(),
        invite,
        olderHref: hasMore ? `/admin/users?before=${users.at(-1)!.id}` : null,
      }),
    });
  }

  app.get('/admin/users', async (request, reply) => page(request, reply));

  app.post<IdParams>('/admin/users/:id/role', async (request, reply) => {
    const me = requireAdmin(request, 'Only admins manage users');
    await accounts.setRole(me.id, idParam(request.params.id), readInput(request, RoleChangeSchema).role);
    reply.setFlash('Role changed');
    return reply.code(303).redirect('/admin/users');
  });

  app.post<IdParams>('/admin/users/:id/suspend', async (request, reply) => {
    const me = requireAdmin(request, 'Only admins manage users');
    const suspend = readInput(request, SuspendSchema).suspended ?? true;
    await accounts.setSuspended(me.id, idParam(request.params.id), suspend);
    reply.setFlash(suspend ? 'Account suspended; its sessions were ended' : 'Account reinstated');
    return reply.code(303).redirect('/admin/users');
  });

  app.post('/admin/users/invite', async (request, reply) => {
    const me = requireAdmin(request, 'Only admins manage users');
    let email: string;
    try {
      const input = readInput(request, InviteSchema);
      email = input.email;
      await accounts.invite(me.id, input.email, input.role ?? 'author');
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      const typed = submittedValues(request);
      const invite = { email: submittedValue(typed, 'email') ?? '', role: submittedValue(typed, 'role') || 'author' };
      return page(request, reply, { ...invite, errors: err.errors }, 422);
    }
    reply.setFlash(`Invitation sent to ${email.trim().toLowerCase()}`);
    return reply.code(303).redirect('/admin/users');
  });

  app.post('/admin/users/signup-mode', async (request, reply) => {
    requireAdmin(request, 'Only admins manage users');
    await accounts.setSignupMode(readInput(request, SignupModeSchema).mode);
    reply.setFlash('Sign-up setting saved');
    return reply.code(303).redirect('/admin/users#signup-h');
  });
}
