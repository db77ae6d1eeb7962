export { createSocialService, type Relation, type SocialService } from './social.service.ts';
export { favoriteHtml, followHtml } from './social.routes.ts';
