import type { SubgraphContext } from '../../../../lib/graphql/service.js';

/** Staff (admin, pos) see drafts; the storefront and partners see published products only. */
export const seesDrafts = (ctx: SubgraphContext): boolean => ctx.roles.some((role) => role === 'admin' || role === 'pos');
