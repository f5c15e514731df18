import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { hasStaffRole } from '../../../../lib/tenant/roles.js';

/**
 * A cart's id is a capability, but a customer's cart (created signed in, or merged) is that
 * customer's and staff's (roles marked `staff` in lib/tenant/roles.ts) only: an anonymous holder
 * of its id, a storefront key or a partner finds nothing. Another customer never sees it either (row-level security).
 */
export function customerCartHidden(ctx: SubgraphContext, customerId: string | null): boolean {
  if (!customerId || ctx.customerId) return false;
  return !hasStaffRole(ctx.roles);
}
