// The events the accounts feature records, with their payloads (see EventCatalogue),
// and what is told about an account outside the site (webhooks, Slack).

import type { Account } from './accounts.service.ts';

/** A new account exists (sign-up, invitation, setup, CLI or RealWorld registration). */
export interface UserCreated {
  userId: number;
}

/** An account as a webhook's `data` and a Slack message carry it. */
export function accountEventData(a: Account) {
  return { id: a.id, username: a.username, displayName: a.displayName, email: a.email, role: a.role, createdAt: a.createdAt };
}

declare module '../../platform/events/index.ts' {
  interface EventCatalogue {
    'user.created': UserCreated;
  }
}
