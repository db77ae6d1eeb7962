import type { Role } from '../../src/platform/db/schema.ts';
import { createAccountsService } from '../../src/features/accounts/index.ts';
import { createSettings } from '../../src/platform/settings.ts';
import { systemClock } from '../../src/lib/clock.ts';
import type { TestApp } from './app.ts';

let n = 0;

export interface TestUser {
  id: number;
  username: string;
  email: string;
  password: string;
  role: Role;
}

/** Creates a user through the accounts service; every field can be overridden. */
export async function buildUser(t: TestApp, overrides: Partial<Omit<TestUser, 'id'>> = {}): Promise<TestUser> {
  n += 1;
  const role = overrides.role ?? 'author';
  const username = overrides.username ?? `${role}${n}_${process.pid}`;
  const u = {
    username,
    role,
    email: overrides.email ?? `${username}@example.test`,
    password: overrides.password ?? `correct horse ${n}`,
  };
  const accounts = createAccountsService({
    db: t.db.kysely,
    clock: systemClock,
    settings: createSettings(t.db.kysely),
    passwordHashCost: t.config.passwordHashCost,
  });
  const { id } = await accounts.createUser({ ...u, displayName: `${role} ${n}` });
  return { id, ...u };
}

/** A personal access token for a user (scopes read and write unless given). */
export async function buildToken(t: TestApp, user: TestUser, scopes = ['read', 'write']): Promise<string> {
  const accounts = createAccountsService({
    db: t.db.kysely,
    clock: systemClock,
    settings: createSettings(t.db.kysely),
    passwordHashCost: t.config.passwordHashCost,
  });
  return (await accounts.createApiToken(user.id, 'test', scopes)).token;
}
