import { appError } from '../errors.js';
import type { CallerContext, Role } from '../tenant/signed-context.js';

/** FORBIDDEN unless the caller holds one of `roles` (the gateway checks too; this is the subgraph's own guard). */
export function requireRole(ctx: CallerContext, ...roles: Role[]): Role {
  const held = roles.find((role) => ctx.roles.includes(role));
  if (!held) throw appError('FORBIDDEN', `This needs the role ${roles.join(' or ')}.`);
  return held;
}

/** FORBIDDEN when a store-bound credential acts on a store outside its list. */
export function requireStoreAccess(ctx: CallerContext, ...storeIds: string[]): void {
  if (!ctx.storeIds) return;
  const outside = storeIds.find((id) => !ctx.storeIds!.includes(id));
  if (outside) throw appError('FORBIDDEN', `This credential may act on its own stores only, not on store ${outside}.`);
}
