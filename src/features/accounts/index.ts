// What other features and tools may use from accounts.
export { createAccountsService, ROLES, type AccountsService, type Account } from './accounts.service.ts';
