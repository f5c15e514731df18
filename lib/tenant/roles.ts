/**
 * The one role table. The code spells a role in lower case (`pos`), as signed contexts,
 * `requireRole` and the SDLs' `@requiresScopes` do; the GraphQL enum `Role` and the `api_key.role`
 * column spell it in upper case (`POS`), derived here and nowhere else. `staff` marks the roles
 * that see what a customer keeps to itself (a customer's cart). A test checks the enum,
 * the CHECK constraint and every `@requiresScopes` against this table.
 */
export const ROLES = {
  storefront: { credential: true, storeBound: false, staff: false, description: 'Anonymous storefront: reads the catalog, prices and availability.' },
  pos: { credential: true, storeBound: true, staff: true, description: 'Point of sale: reads, moves stock, places orders, subscribes.' },
  admin: { credential: true, storeBound: false, staff: true, description: 'Everything within its tenant, API keys included.' },
  partner: { credential: true, storeBound: false, staff: false, description: 'Read-only, the partner schema.' },
  platform: { credential: false, storeBound: false, staff: true, description: 'Manages tenants: only the platform key holds it.' },
  customer: { credential: true, storeBound: false, staff: false, apiKey: false, description: 'A shopper signed in: its own carts, orders and profile (a JWT whose subject is the customer).' },
  gateway: { credential: false, storeBound: false, staff: true, description: 'The gateway itself, calling a subgraph on its own behalf.' },
} as const satisfies Record<string, { credential: boolean; storeBound: boolean; staff: boolean; apiKey?: false; description: string }>;

export type Role = keyof typeof ROLES;
/** A role as the GraphQL enum `Role` spells it. */
export type RoleName = Uppercase<Exclude<Role, 'gateway'>>;

export const ALL_ROLES = Object.keys(ROLES) as Role[];
/** Roles an API key or a JWT may carry (the platform is the platform key's alone). */
export const CREDENTIAL_ROLES = ALL_ROLES.filter((role) => ROLES[role].credential);
/** The enum `Role`'s values (every role but the gateway's own). */
export const ROLE_NAMES = ALL_ROLES.filter((role) => role !== 'gateway').map(roleName);
/** The roles an API key may be created with, as the enum spells them (a customer is a JWT's subject, never a key). */
export const KEY_ROLE_NAMES = CREDENTIAL_ROLES.filter((role) => !('apiKey' in ROLES[role])).map(roleName);

/**
 * True when one of `roles` is staff's (`staff` in the table: a store's people, the platform and
 * the gateway itself), who see what a customer keeps to itself, such as a customer's cart.
 */
export function hasStaffRole(roles: readonly string[]): boolean {
  return roles.some((role) => Object.hasOwn(ROLES, role) && ROLES[role as Role].staff);
}

export function roleName(role: Role): RoleName {
  return role.toUpperCase() as RoleName;
}

/** The role an enum value or a claim names (any case); undefined for none. */
export function roleOf(name: string): Role | undefined {
  const role = name.toLowerCase();
  return Object.hasOwn(ROLES, role) ? (role as Role) : undefined;
}
