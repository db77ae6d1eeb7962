// The events the accounts feature records, with their payloads (see EventCatalogue).

/** A new account exists (sign-up, invitation, setup, CLI or RealWorld registration). */
export interface UserCreated {
  userId: number;
}

declare module '../../platform/events/index.ts' {
  interface EventCatalogue {
    'user.created': UserCreated;
  }
}
