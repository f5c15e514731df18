import { appError } from '../errors.js';
import type { CallerContext, Role } from '../tenant/signed-context.js';

/** FORBIDDEN unless the caller holds one of `roles` (the gateway checks too; this is the subgraph's own guard). */
export function requireRole(ctx: CallerContext, ...roles: Role[]): Role {
  const held = roles.find((role) => ctx.roles.includes(role));
  if (!held) throw appError('FORBIDDEN', `This needs the role ${roles.join(' or ')}.`);
  return held;
}
