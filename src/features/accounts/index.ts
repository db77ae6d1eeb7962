import type { FastifyRequest } from 'fastify';
import { html } from '../../lib/html.ts';
import type { AppContext, Feature } from '../../platform/feature.ts';
import { createSlot, type Slot } from '../../platform/http/slots.ts';
import type { PostsService } from '../posts/index.ts';
import { adminUsersRoutes } from './accounts.admin.ts';
import { accountsApi } from './accounts.api.ts';
import { profileRoutes } from './accounts.profile.ts';
import { accountsRoutes } from './accounts.routes.ts';
import { createAccountsService, type AccountsService } from './accounts.service.ts';
import { settingsRoutes } from './accounts.settings.ts';

// What other features and tools may use from accounts.
export { createAccountsService, ROLES, TAKEN, type AccountsService, type Account } from './accounts.service.ts';
export { accountEventData, type UserCreated } from './accounts.events.ts';
export { createLoginLimiter, type LoginLimiter } from './accounts.login-limit.ts';

/** The accounts feature, and the place on a profile page that other features fill. */
export interface AccountsFeature extends Feature<AccountsService> {
  /** Beside a profile's heading (follow button, counts); fragments get the visitor and the username. */
  profileAside: Slot<[FastifyRequest, string]>;
  /** Below the profile form on /settings (the avatar upload); fragments get the signed-in visitor. */
  settingsSection: Slot<[FastifyRequest]>;
}

/** Accounts: sign-up, login, settings, profiles, user administration, and their API. */
export function accountsFeature(ctx: AppContext, deps: { posts: PostsService }): AccountsFeature {
  const service = createAccountsService({
    db: ctx.db.kysely,
    clock: ctx.clock,
    settings: ctx.settings,
    mailer: ctx.mailer,
    events: ctx.events,
    queue: ctx.queue,
    site: ctx.site,
    passwordHashCost: ctx.config.passwordHashCost,
  });
  const profileAside = createSlot<[FastifyRequest, string]>();
  const settingsSection = createSlot<[FastifyRequest]>();
  return {
    service,
    profileAside,
    settingsSection,
    async plugin(app) {
      ctx.chrome.add('nav', {
        order: 100,
        render: (request) =>
          request.user
            ? html`<a href="/settings">Settings</a>
        <form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${request.csrfToken()}"><button class="link">Log out<span class="skip"> ${request.user.username}</span></button></form>`
            : html`<a href="/login">Log in</a> <a href="/signup">Sign up</a>`,
      });
      ctx.chrome.adminPage({ href: '/admin/users', name: 'Users', description: 'Roles, suspension, invitations, who may sign up', order: 30 });
      await app.register(accountsRoutes, { accounts: service });
      await app.register(settingsRoutes, { accounts: service, more: (request) => settingsSection.render(request) });
      await app.register(adminUsersRoutes, { accounts: service });
      await app.register(profileRoutes, { accounts: service, posts: deps.posts, aside: (request, username) => profileAside.render(request, username) });
    },
    async api(api) {
      await api.register(accountsApi, { accounts: service });
    },
  };
}
