import type { SubgraphContext } from '../../../../lib/graphql/service.js';

/**
 * A cart's id is a capability, but a customer's cart (created signed in, or merged) is that
 * customer's and staff's (admin, pos) only: an anonymous holder of its id, a storefront key or a
 * partner finds nothing. Another customer never sees it either (row-level security).
 */
export function customerCartHidden(ctx: SubgraphContext, customerId: string | null): boolean {
  if (!customerId || ctx.customerId) return false;
  return !ctx.roles.some((role) => role === 'admin' || role === 'pos' || role === 'gateway' || role === 'platform');
}
