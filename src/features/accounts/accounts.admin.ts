import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors.ts';
import { requireAdmin } from '../../platform/http/auth.ts';
import { sendPage } from '../../platform/http/layout.ts';
import type { AccountsService } from './accounts.service.ts';
import { adminUsersHtml } from './views/admin-users.ts';

type Body = Record<string, unknown> | undefined;
type IdParams = { Params: { id: string } };
const str = (b: Body, k: string) => (typeof b?.[k] === 'string' ? (b[k] as string) : '');
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
    await accounts.setRole(me.id, idParam(request.params.id), str(request.body as Body, 'role'));
    reply.setFlash('Role changed');
    return reply.code(303).redirect('/admin/users');
  });

  app.post<IdParams>('/admin/users/:id/suspend', async (request, reply) => {
    const me = requireAdmin(request, 'Only admins manage users');
    const suspend = str(request.body as Body, 'suspended') !== '0';
    await accounts.setSuspended(me.id, idParam(request.params.id), suspend);
    reply.setFlash(suspend ? 'Account suspended; its sessions were ended' : 'Account reinstated');
    return reply.code(303).redirect('/admin/users');
  });

  app.post('/admin/users/invite', async (request, reply) => {
    const me = requireAdmin(request, 'Only admins manage users');
    const b = request.body as Body;
    const invite = { email: str(b, 'email'), role: str(b, 'role') || 'author' };
    try {
      await accounts.invite(me.id, invite.email, invite.role);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'validation_failed') throw err;
      return page(request, reply, { ...invite, errors: err.errors }, 422);
    }
    reply.setFlash(`Invitation sent to ${invite.email.trim().toLowerCase()}`);
    return reply.code(303).redirect('/admin/users');
  });

  app.post('/admin/users/signup-mode', async (request, reply) => {
    requireAdmin(request, 'Only admins manage users');
    await accounts.setSignupMode(str(request.body as Body, 'mode'));
    reply.setFlash('Sign-up setting saved');
    return reply.code(303).redirect('/admin/users#signup-h');
  });
}
