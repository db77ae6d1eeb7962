import type { AppContext, Feature } from '../../platform/feature.ts';
import { adminMailRoutes } from './admin-mail.routes.ts';

/** /admin/mail: every email sent or kept, with its delivery status. */
export function adminMailFeature(ctx: AppContext): Feature {
  return {
    service: undefined,
    async plugin(app) {
      ctx.chrome.adminPage({ href: '/admin/mail', name: 'Mail', description: 'Every email sent or kept, with delivery status', order: 40 });
      await app.register(adminMailRoutes, { mailer: ctx.mailer });
    },
  };
}
