import type { EntityManager } from 'typeorm';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { badInput, notFound } from '../../../../lib/errors.js';
import { outboxOf } from '../../../../lib/events/outbox.js';
import { groupByKey } from '../../../../lib/graphql/batch.js';
import { isUuid } from '../../../../lib/graphql/context.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import type { ModifierGroupPayload } from '../../../../lib/events/contracts/catalog.js';
import { ProductEntity } from '../data/entities/product.entity.js';
import { isTimeZone, isWithinWindows, minutesOf, type AvailabilityWindow } from '../../../../lib/menus/availability.js';

const emit = outboxOf('catalog');

/** The most modifiers one group may hold, and the most selections it may ask for. */
export const MAX_MODIFIERS_PER_GROUP = 20;

/** The most windows of one item in one store. */
export const MAX_WINDOWS = 10;

export interface Availability {
  timeZone: string;
  windows: AvailabilityWindow[];
  /** Set without a zone: evaluated in the store's zone as it is when asked (`timeZone` is the store's when set). */
  fromStore?: boolean;
}

/** Checks availability windows as a client sends them; BAD_USER_INPUT with the field otherwise. */
export function checkedAvailability(timeZone: string, windows: readonly AvailabilityWindow[]): Availability {
  if (!isTimeZone(timeZone)) throw badInput(`${timeZone} is not an IANA time zone`, 'timeZone');
  if (windows.length > MAX_WINDOWS) throw badInput(`at most ${MAX_WINDOWS} windows`, 'windows');
  for (const w of windows) {
    if (minutesOf(w.from) === null || minutesOf(w.to) === null) throw badInput('a window\'s from and to are HH:MM (00:00 to 23:59)', 'windows');
    if (w.from === w.to) throw badInput('a window needs from and to apart', 'windows');
  }
  return { timeZone, windows: windows.map((w) => ({ from: w.from, to: w.to })) };
}

export interface ModifierGroupRow extends ModifierGroupPayload {
  productId: string;
}

/** Checks groups as a client sends them; BAD_USER_INPUT with the field otherwise. */
export function checkedGroups(groups: readonly ModifierGroupPayload[]): ModifierGroupPayload[] {
  const seen = new Set<string>();
  return groups.map((g) => {
    const name = g.name.trim();
    if (!name) throw badInput('a modifier group needs a name', 'groups.name');
    if (g.minSelections < 0 || g.maxSelections < 1 || g.minSelections > g.maxSelections || g.maxSelections > MAX_MODIFIERS_PER_GROUP) {
      throw badInput(`group ${name}: 0 ≤ minSelections ≤ maxSelections, 1 ≤ maxSelections ≤ ${MAX_MODIFIERS_PER_GROUP}`, 'groups.maxSelections');
    }
    if (g.modifiers.length === 0 || g.modifiers.length > MAX_MODIFIERS_PER_GROUP) throw badInput(`group ${name} needs 1 to ${MAX_MODIFIERS_PER_GROUP} modifiers`, 'groups.modifiers');
    if (g.minSelections > g.modifiers.length) throw badInput(`group ${name} asks for more selections than it has modifiers`, 'groups.minSelections');
    for (const m of g.modifiers) {
      if (seen.has(m.sku)) throw badInput(`modifier ${m.sku} appears twice in the product's groups`, 'groups.modifiers.sku');
      seen.add(m.sku);
    }
    return { name, minSelections: g.minSelections, maxSelections: g.maxSelections, modifiers: g.modifiers.map((m) => ({ sku: m.sku, name: m.name.trim() || m.sku })) };
  });
}

/**
 * Menus (issue 19, decision 0036): a product's modifier groups. Each modifier is a variant (an
 * add-on product), so pricing prices it like any sku; orders learn the groups by
 * `catalog.modifier-groups.set` and check and price order lines against them.
 */
export class MenuService extends TenantScopedService {
  async setModifierGroups(ctx: SubgraphContext, productId: string, groups: readonly ModifierGroupPayload[]): Promise<ProductEntity> {
    const cleaned = checkedGroups(groups);
    const product = await this.tx(ctx, (m, tenantId) => this.replaceGroups(m, tenantId, productId, cleaned));
    await this.afterCommit();
    return product;
  }

  replaceGroups(m: EntityManager, tenantId: string, productId: string, groups: ModifierGroupPayload[]): Promise<ProductEntity> {
    return replaceModifierGroupsIn(m, tenantId, productId, groups);
  }

  replaceAvailability(m: EntityManager, tenantId: string, productId: string, storeId: string, availability: Availability): Promise<ProductEntity> {
    return replaceAvailabilityIn(m, tenantId, productId, storeId, availability);
  }

  async setAvailabilityWindows(ctx: SubgraphContext, input: { productId: string; storeId: string; timeZone?: string | null; windows: AvailabilityWindow[] }): Promise<ProductEntity> {
    if (!isUuid(input.storeId)) throw notFound(`no store ${input.storeId}`);
    // Without a zone the windows are local times of the store, in its zone whenever it is set.
    const checked = checkedAvailability(input.timeZone ?? 'UTC', input.windows);
    const product = await this.tx(ctx, async (m, tenantId) => {
      const availability = input.timeZone ? checked : { ...checked, timeZone: await storeTimeZone(m, tenantId, input.storeId), fromStore: true };
      return this.replaceAvailability(m, tenantId, input.productId, input.storeId, availability);
    });
    await this.afterCommit();
    return product;
  }

  /** A product's windows in a store; null when it has none there (always orderable). */
  availability(ctx: SubgraphContext, productId: string, storeId: string): Promise<Availability | null> {
    if (!isUuid(storeId) || !isUuid(productId)) return Promise.resolve(null);
    return this.tx(ctx, async (m, tenantId) => {
      const s = m.connection.driver.schema;
      const [row]: { time_zone: string; windows: AvailabilityWindow[] }[] = await m.query(
        `SELECT coalesce(CASE WHEN w.from_store THEN z.time_zone END, w.time_zone) AS time_zone, w.windows FROM "${s}"."availability_window" w
           LEFT JOIN "${s}"."store_time_zone" z ON z.tenant_id = w.tenant_id AND z.store_id = w.store_id
          WHERE w.tenant_id = $1 AND w.store_id = $2 AND w.product_id = $3`,
        [tenantId, storeId, productId],
      );
      return row ? { timeZone: row.time_zone, windows: row.windows } : null;
    });
  }

  async orderable(ctx: SubgraphContext, productId: string, storeId: string, at?: string | null): Promise<boolean> {
    const when = at ? new Date(at) : new Date();
    if (Number.isNaN(when.getTime())) throw badInput('at is an ISO 8601 time', 'at');
    const availability = await this.availability(ctx, productId, storeId);
    return availability ? isWithinWindows(availability.windows, availability.timeZone, when) : true;
  }

  groupsByProductIds(ctx: SubgraphContext, productIds: readonly string[]): Promise<ModifierGroupPayload[][]> {
    return this.tx(ctx, async (m, tenantId) => {
      const ids = productIds.filter(isUuid);
      const rows: { product_id: string; name: string; min_selections: number; max_selections: number; modifiers: ModifierGroupPayload['modifiers'] }[] = ids.length
        ? await m.query(
          `SELECT product_id, name, min_selections, max_selections, modifiers FROM "${m.connection.driver.schema}"."modifier_group"
            WHERE tenant_id = $1 AND product_id = ANY($2) ORDER BY product_id, position`,
          [tenantId, ids],
        )
        : [];
      const groups: ModifierGroupRow[] = rows.map((r) => ({ productId: r.product_id, name: r.name, minSelections: r.min_selections, maxSelections: r.max_selections, modifiers: r.modifiers }));
      return groupByKey(productIds, groups, (g) => g.productId);
    });
  }
}

/** Replaces the groups of one product inside the caller's transaction, and announces them. */
export async function replaceModifierGroupsIn(m: EntityManager, tenantId: string, productId: string, groups: ModifierGroupPayload[]): Promise<ProductEntity> {
  const product = isUuid(productId) ? await m.getRepository(ProductEntity).findOneBy({ tenantId, id: productId }) : null;
  if (!product) throw notFound(`no product ${productId}`);
  const s = m.connection.driver.schema;
  const skus = groups.flatMap((g) => g.modifiers.map((x) => x.sku));
  if (skus.length) {
    const known: { sku: string }[] = await m.query(`SELECT sku FROM "${s}"."variant" WHERE tenant_id = $1 AND sku = ANY($2)`, [tenantId, skus]);
    const missing = skus.find((sku) => !known.some((k) => k.sku === sku));
    if (missing) throw notFound(`no variant with sku ${missing}: a modifier is a sku of the catalog, priced in pricing`);
  }
  await m.query(`DELETE FROM "${s}"."modifier_group" WHERE tenant_id = $1 AND product_id = $2`, [tenantId, productId]);
  if (groups.length) {
    await m.query(
      `INSERT INTO "${s}"."modifier_group" (tenant_id, product_id, position, name, min_selections, max_selections, modifiers)
       SELECT $1, $2, p, n, lo, hi, mods::jsonb FROM unnest($3::int[], $4::text[], $5::int[], $6::int[], $7::text[]) AS g(p, n, lo, hi, mods)`,
      [tenantId, productId, groups.map((_, i) => i), groups.map((g) => g.name), groups.map((g) => g.minSelections), groups.map((g) => g.maxSelections), groups.map((g) => JSON.stringify(g.modifiers))],
    );
  }
  const variants: { sku: string }[] = await m.query(`SELECT sku FROM "${s}"."variant" WHERE tenant_id = $1 AND product_id = $2`, [tenantId, productId]);
  await emit(m, tenantId, 'catalog.modifier-groups.set', { productId, skus: variants.map((v) => v.sku), groups });
  return product;
}

/** Replaces one product's windows in one store inside the caller's transaction, and announces them. */
export async function replaceAvailabilityIn(m: EntityManager, tenantId: string, productId: string, storeId: string, availability: Availability): Promise<ProductEntity> {
  const product = isUuid(productId) ? await m.getRepository(ProductEntity).findOneBy({ tenantId, id: productId }) : null;
  if (!product) throw notFound(`no product ${productId}`);
  const s = m.connection.driver.schema;
  await m.query(`DELETE FROM "${s}"."availability_window" WHERE tenant_id = $1 AND store_id = $2 AND product_id = $3`, [tenantId, storeId, productId]);
  if (availability.windows.length) {
    await m.query(
      `INSERT INTO "${s}"."availability_window" (tenant_id, store_id, product_id, time_zone, windows, from_store) VALUES ($1, $2, $3, $4, $5::jsonb, $6)`,
      [tenantId, storeId, productId, availability.timeZone, JSON.stringify(availability.windows), availability.fromStore ?? false],
    );
  }
  const variants: { sku: string }[] = await m.query(`SELECT sku FROM "${s}"."variant" WHERE tenant_id = $1 AND product_id = $2`, [tenantId, productId]);
  await emit(m, tenantId, 'catalog.availability-windows.set', {
    productId, storeId, skus: variants.map((v) => v.sku), timeZone: availability.timeZone, windows: availability.windows, ...(availability.fromStore ? { fromStore: true } : {}),
  });
  return product;
}

/** The store's time zone as the tenant subgraph announced it (`store_time_zone`); UTC until it has one. */
async function storeTimeZone(m: EntityManager, tenantId: string, storeId: string): Promise<string> {
  const [row]: { time_zone: string }[] = await m.query(`SELECT time_zone FROM "${m.connection.driver.schema}"."store_time_zone" WHERE tenant_id = $1 AND store_id = $2`, [tenantId, storeId]);
  return row?.time_zone ?? 'UTC';
}
