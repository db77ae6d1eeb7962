export { accountsRoutes as accountsFeature } from './accounts.routes.ts';
export { createAccountsService, ROLES, type AccountsService } from './accounts.service.ts';
