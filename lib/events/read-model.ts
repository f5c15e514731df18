import type { EntityManager } from 'typeorm';
import { isUuid } from '../graphql/context.js';
import { on, type TypedApplier } from './on.js';
import type { ReadModel } from './replay.js';

/** Keeps `known_store` up to date from the tenant subgraph's events. */
export const rememberStore: TypedApplier<'tenant.store.created'> = async (manager, event) => {
  const store = event.payload;
  await manager.query(
    `INSERT INTO "${manager.connection.driver.schema}"."known_store" (tenant_id, store_id, code) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id, store_id) DO UPDATE SET code = EXCLUDED.code`,
    [event.tenantId, store.id, store.code],
  );
};

/** The subset of `storeIds` that this service knows for the tenant. */
export async function knownStores(manager: EntityManager, tenantId: string, storeIds: readonly string[]): Promise<Set<string>> {
  const valid = [...new Set(storeIds.filter(isUuid))];
  if (valid.length === 0) return new Set();
  const rows: { store_id: string }[] = await manager.query(
    `SELECT store_id FROM "${manager.connection.driver.schema}"."known_store" WHERE tenant_id = $1 AND store_id = ANY($2::uuid[])`,
    [tenantId, valid],
  );
  return new Set(rows.map((r) => r.store_id));
}

/** Keeps `known_variant` up to date from the catalog's events. */
export const rememberVariant: TypedApplier<'catalog.variant.upserted'> = async (manager, event) => {
  const { sku } = event.payload;
  await manager.query(
    `INSERT INTO "${manager.connection.driver.schema}"."known_variant" (tenant_id, sku) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
    [event.tenantId, sku],
  );
};

/** Keeps `known_variant` up to date from the catalog's bulk announcements (feed imports). */
export const rememberVariants: TypedApplier<'catalog.variants.upserted'> = async (manager, event) => {
  const { variants } = event.payload;
  await manager.query(
    `INSERT INTO "${manager.connection.driver.schema}"."known_variant" (tenant_id, sku) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`,
    [event.tenantId, variants.map((v) => v.sku)],
  );
};

/** True when the catalog has announced `sku` for the tenant. */
export async function isKnownVariant(manager: EntityManager, tenantId: string, sku: string): Promise<boolean> {
  const rows: unknown[] = await manager.query(
    `SELECT 1 FROM "${manager.connection.driver.schema}"."known_variant" WHERE tenant_id = $1 AND sku = $2`,
    [tenantId, sku],
  );
  return rows.length > 0;
}

/**
 * `store_time_zone`: each store's IANA time zone, from `tenant.store.created` (when it names one)
 * and `tenant.store.time-zone-set`, where menus' availability windows are evaluated (catalog,
 * orders). A consumer that also keeps `known_store` calls both appliers in its one reaction to
 * `tenant.store.created` (a type has one reaction per consumer).
 */
export const rememberStoreTimeZone: TypedApplier<'tenant.store.created'> = async (manager, event) => {
  if (event.payload.timeZone) await setStoreTimeZone(manager, event.tenantId, event.payload.id, event.payload.timeZone);
};
export const rememberTimeZoneChange: TypedApplier<'tenant.store.time-zone-set'> = (manager, event) => setStoreTimeZone(manager, event.tenantId, event.payload.id, event.payload.timeZone);
/** Both of a consumer's `tenant.store.created` tables. */
export const rememberStoreAndTimeZone: TypedApplier<'tenant.store.created'> = async (manager, event) => {
  await rememberStore(manager, event);
  await rememberStoreTimeZone(manager, event);
};

async function setStoreTimeZone(manager: EntityManager, tenantId: string, storeId: string, timeZone: string): Promise<void> {
  await manager.query(
    `INSERT INTO "${manager.connection.driver.schema}"."store_time_zone" (tenant_id, store_id, time_zone) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id, store_id) DO UPDATE SET time_zone = EXCLUDED.time_zone`,
    [tenantId, storeId, timeZone],
  );
}

/** The read model of `known_store` (a service that needs no time zones): declared once, as each service names it. */
export const knownStoresReadModel = (service: string): ReadModel => ({
  name: `${service}.known-stores`,
  service,
  tables: ['known_store'],
  description: "the tenant's stores (tenant.store.created)",
  reactions: [on('tenant.store.created', rememberStore)],
});

/** The read model of `known_variant`: the catalog's skus, one by one and in bulk. */
export const knownVariantsReadModel = (service: string): ReadModel => ({
  name: `${service}.known-variants`,
  service,
  tables: ['known_variant'],
  description: "the catalog's skus (catalog.variant(s).upserted)",
  reactions: [on('catalog.variant.upserted', rememberVariant), on('catalog.variants.upserted', rememberVariants)],
});
