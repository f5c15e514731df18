import type { FlagDefinition } from '../../flags/definition.js';

/** Events the tenant subgraph publishes, by type (payloads; versions in `../event-map.ts`). */
export interface TenantEvents {
  'tenant.tenant.created': { id: string; slug: string; name: string; domains: string[] };
  /** The tenant's locale was set (BCP 47, canonical): the catalog's search stems its language. */
  'tenant.tenant.locale-set': { locale: string };
  /** Every service keeps `known_store` from it. */
  'tenant.store.created': { id: string; code: string; name: string; kind: string; timeZone?: string };
  /** A store's IANA time zone was set: catalog and orders evaluate its menus' availability windows in it. */
  'tenant.store.time-zone-set': { id: string; timeZone: string };
  'tenant.api-key.created': { id: string; role: string };
  /** Gateways drop the key from their caches at once. */
  'tenant.api-key.revoked': { id: string; keyHash: string };
  /** A source's secret was set or rotated: gateways drop the one they cached. */
  'tenant.webhook-source.configured': { source: string; currencyCode: string };
  /** A shopper registered (issue 17). */
  'tenant.customer.registered': { id: string; email: string };
  /** Outbound delivery sends the reset link: the single-use token is in the payload, valid until `expiresAt`. */
  'tenant.customer.password-reset-requested': { customerId: string; email: string; token: string; expiresAt: string };
  /**
   * A feature flag was set (`flag`) or deleted (`flag: null`). `revision` counts the tenant's flag
   * changes (1, 2, 3 …): every process's flag cache applies the change in place, and each
   * subgraph's copy keeps the newest (docs/flags.md).
   */
  'tenant.feature-flag.changed': { key: string; revision: number; flag: FlagDefinition | null };
}
