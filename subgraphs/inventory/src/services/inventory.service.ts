import { skuStoreKey, splitSkuStoreKey } from '../../../../lib/sku.js';
import type { EntityManager } from 'typeorm';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { once } from '../../../../lib/db/idempotency.js';
import { badInput, notFound } from '../../../../lib/errors.js';
import { groupByKey } from '../../../../lib/graphql/batch.js';
import { isUuid } from '../../../../lib/graphql/context.js';
import { requireStoreAccess } from '../../../../lib/graphql/roles.js';
import { decodeCursor, pageSize, toConnection, type Connection } from '../../../../lib/graphql/pagination.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { knownStores } from '../../../../lib/events/read-model.js';
import { MovementEntity, type MovementKind } from '../data/entities/movement.entity.js';
import { LedgerBatch } from './ledger.js';
import { StockLevelEntity } from '../data/entities/stock-level.entity.js';
import { emptyStockLevel, toStockChangedPayload, toStockLevelView, type StockLevelView } from './stock-level.js';


interface Movement {
  sku: string;
  storeId: string;
  kind: MovementKind;
  /** Change of on-hand stock; its sign decides which side is debited. */
  delta: number;
  /** The account on the other side of the store's on-hand account. */
  counterAccount: string;
  reference: string | null;
  idempotencyKey?: string | null;
}

/** NOT_FOUND unless the tenant has the store (from tenant events) and the sku (from catalog events). */
export function requireStoreAndVariant(m: EntityManager, tenantId: string, storeId: string, sku: string): Promise<void> {
  return requireStoresAndVariants(m, tenantId, [{ sku, storeId }]);
}

/**
 * `requireStoreAndVariant` for many (sku, store) pairs in one statement, whatever their number (a
 * feed batch's 500 new levels were 500 round trips, the largest part of applying its stock column).
 * NOT_FOUND names the first pair in `keys` that fails, as checking them one by one would.
 */
export async function requireStoresAndVariants(m: EntityManager, tenantId: string, keys: { sku: string; storeId: string }[]): Promise<void> {
  if (keys.length === 0) return;
  const s = m.connection.driver.schema;
  const [known]: { stores: string[] | null; skus: string[] | null }[] = await m.query(
    `SELECT (SELECT array_agg(store_id::text) FROM "${s}"."known_store" WHERE tenant_id = $1 AND store_id = ANY($2::uuid[])) AS stores,
            (SELECT array_agg(sku) FROM "${s}"."known_variant" WHERE tenant_id = $1 AND sku = ANY($3::text[])) AS skus`,
    [tenantId, [...new Set(keys.map((k) => k.storeId).filter(isUuid))], [...new Set(keys.map((k) => k.sku))]],
  );
  const stores = new Set(known?.stores ?? []);
  const skus = new Set(known?.skus ?? []);
  for (const key of keys) {
    if (!isUuid(key.storeId) || !stores.has(key.storeId.toLowerCase())) throw notFound(`no store ${key.storeId}`);
    if (!skus.has(key.sku)) throw notFound(`no variant with sku ${key.sku}`);
  }
}

/** The movement ledger and the stock levels projected from it. */
export class InventoryService extends TenantScopedService {
  receiveStock(
    ctx: SubgraphContext,
    input: { sku: string; storeId: string; quantity: number; reference?: string | null; idempotencyKey?: string | null },
  ): Promise<StockLevelView> {
    if (!Number.isInteger(input.quantity) || input.quantity <= 0) throw badInput('quantity must be greater than zero', 'quantity');
    return this.record(ctx, 'receiveStock', input, {
      sku: input.sku,
      storeId: input.storeId,
      kind: 'RECEIPT',
      delta: input.quantity,
      counterAccount: 'external:supplier',
      reference: input.reference ?? null,
      idempotencyKey: input.idempotencyKey,
    });
  }

  adjustStock(
    ctx: SubgraphContext,
    input: { sku: string; storeId: string; delta: number; reason?: string | null; idempotencyKey?: string | null },
  ): Promise<StockLevelView> {
    if (!Number.isInteger(input.delta) || input.delta === 0) throw badInput('delta must be a non-zero whole number', 'delta');
    return this.record(ctx, 'adjustStock', input, {
      sku: input.sku,
      storeId: input.storeId,
      kind: 'ADJUSTMENT',
      delta: input.delta,
      counterAccount: 'external:adjustment',
      reference: input.reason ?? null,
      idempotencyKey: input.idempotencyKey,
    });
  }

  /** Appends one balanced movement and updates the projection, in one transaction. */
  private async record(ctx: SubgraphContext, operation: string, payload: object, movement: Movement): Promise<StockLevelView> {
    requireStoreAccess(ctx, movement.storeId);
    const { idempotencyKey, ...request } = payload as { idempotencyKey?: string | null };
    const { result, replayed } = await this.tx(ctx, (m, tenantId) =>
      once(m, { tenantId, operation, key: idempotencyKey, payload: request }, () => this.apply(m, tenantId, movement)),
    );
    if (!replayed) await this.afterCommit();
    return result;
  }

  private async apply(m: EntityManager, tenantId: string, movement: Movement): Promise<StockLevelView> {
    const { sku, storeId } = movement;
    if (!isUuid(storeId)) throw notFound(`no store ${storeId}`);
    const ledger = new LedgerBatch(m, tenantId);
    await ledger.lock([{ sku, storeId }], () => requireStoreAndVariant(m, tenantId, storeId, sku));
    ledger.postOnHandChange({ sku, storeId, kind: movement.kind, delta: movement.delta, counterAccount: movement.counterAccount, reference: movement.reference });
    return (await ledger.commit()).get(skuStoreKey(sku, storeId))!;
  }

  /** Stock per `skuStoreKey(sku, storeId)`; zero where nothing moved; NOT_FOUND for a store this tenant lacks. */
  stockFor(ctx: SubgraphContext, keys: readonly string[]): Promise<(StockLevelView | Error)[]> {
    return this.tx(ctx, async (m, tenantId) => {
      const pairs = keys.map((key) => splitSkuStoreKey(key));
      const stores = await knownStores(m, tenantId, pairs.map(([, storeId]) => storeId));
      const wanted = pairs.filter(([, storeId]) => stores.has(storeId));
      const rows: StockLevelEntity[] = wanted.length
        ? await m
            .getRepository(StockLevelEntity)
            .createQueryBuilder('l')
            .where('l.tenant_id = :tenantId', { tenantId })
            .andWhere('l.store_id = ANY(:stores::uuid[])', { stores: [...stores] })
            .andWhere('l.sku = ANY(:skus)', { skus: [...new Set(wanted.map(([sku]) => sku))] })
            .getMany()
        : [];
      const byKey = new Map(rows.map((row) => [skuStoreKey(row.sku, row.storeId), row]));
      return pairs.map(([sku, storeId], i) => {
        if (!stores.has(storeId)) return notFound(`no store ${storeId}`);
        const row = byKey.get(keys[i]!);
        return row ? toStockLevelView(row) : emptyStockLevel(sku, storeId);
      });
    });
  }

  /**
   * The stock levels behind `StockLevel` ids, per `skuStoreKey(sku, storeId)`, in one transaction
   * (`nodes(ids:)` sends up to 100): zero where nothing moved; null unless this tenant has the
   * store and the sku.
   */
  stockLevelsOf(ctx: SubgraphContext, keys: readonly string[]): Promise<(StockLevelView | null)[]> {
    return this.tx(ctx, async (m, tenantId) => {
      const pairs = keys.map((key) => splitSkuStoreKey(key));
      const stores = await knownStores(m, tenantId, pairs.map(([, storeId]) => storeId));
      const skus = [...new Set(pairs.filter(([, storeId]) => stores.has(storeId)).map(([sku]) => sku))];
      const known: { sku: string }[] = skus.length
        ? await m.query(`SELECT sku FROM "${m.connection.driver.schema}"."known_variant" WHERE tenant_id = $1 AND sku = ANY($2)`, [tenantId, skus])
        : [];
      const variants = new Set(known.map((row) => row.sku));
      const rows = variants.size
        ? await m
            .getRepository(StockLevelEntity)
            .createQueryBuilder('l')
            .where('l.tenant_id = :tenantId', { tenantId })
            .andWhere('l.store_id = ANY(:stores::uuid[])', { stores: [...stores] })
            .andWhere('l.sku = ANY(:skus)', { skus: [...variants] })
            .getMany()
        : [];
      const byKey = new Map(rows.map((row) => [skuStoreKey(row.sku, row.storeId), row]));
      return pairs.map(([sku, storeId], i) => {
        if (!stores.has(storeId) || !variants.has(sku)) return null;
        const row = byKey.get(keys[i]!);
        return row ? toStockLevelView(row) : emptyStockLevel(sku, storeId);
      });
    });
  }

  stockLevelsBySkus(ctx: SubgraphContext, skus: readonly string[]): Promise<StockLevelView[][]> {
    return this.tx(ctx, async (m, tenantId) => {
      const rows = await m
        .getRepository(StockLevelEntity)
        .createQueryBuilder('l')
        .where('l.tenant_id = :tenantId', { tenantId })
        .andWhere('l.sku = ANY(:skus)', { skus: [...skus] })
        .orderBy('l.store_id')
        .getMany();
      return groupByKey(skus, rows.map(toStockLevelView), (l) => l.sku);
    });
  }

  storeInventory(
    ctx: SubgraphContext,
    storeId: string,
    args: { first?: number | null; after?: string | null },
  ): Promise<Connection<StockLevelView>> {
    const limit = pageSize(args.first);
    const after = decodeCursor(args.after);
    return this.tx(ctx, async (m, tenantId) => {
      if (!isUuid(storeId)) return toConnection([], limit, (l: StockLevelView) => l.sku);
      const qb = m
        .getRepository(StockLevelEntity)
        .createQueryBuilder('l')
        .where('l.tenant_id = :tenantId AND l.store_id = :storeId', { tenantId, storeId })
        .orderBy('l.sku', 'ASC')
        .limit(limit + 1);
      if (after !== undefined) qb.andWhere('l.sku > :after', { after });
      return toConnection((await qb.getMany()).map(toStockLevelView), limit, (l) => l.sku);
    });
  }

  movements(
    ctx: SubgraphContext,
    args: { sku?: string | null; storeId?: string | null; first?: number | null; after?: string | null },
  ): Promise<Connection<MovementEntity>> {
    const limit = pageSize(args.first);
    const after = decodeCursor(args.after);
    if (after !== undefined && !/^\d+$/.test(after)) throw badInput('after is not a valid cursor', 'after');
    return this.tx(ctx, async (m, tenantId) => {
      if (args.storeId && !isUuid(args.storeId)) return toConnection([], limit, (mv: MovementEntity) => mv.seq);
      const qb = m
        .getRepository(MovementEntity)
        .createQueryBuilder('mv')
        .where('mv.tenant_id = :tenantId', { tenantId })
        .orderBy('mv.seq', 'DESC')
        .limit(limit + 1);
      if (args.sku) qb.andWhere('mv.sku = :sku', { sku: args.sku });
      if (args.storeId) qb.andWhere('mv.store_id = :storeId', { storeId: args.storeId });
      if (after !== undefined) qb.andWhere('mv.seq < :after', { after });
      return toConnection(await qb.getMany(), limit, (mv) => mv.seq);
    });
  }

  /** The current state of a store's stock (of `skus`, when given), as `stockChanged` payloads. */
  stockChangedSnapshot(ctx: SubgraphContext, storeId: string, skus: readonly string[] | null | undefined): Promise<string[]> {
    return this.tx(ctx, async (m, tenantId) => {
      if (!(await knownStores(m, tenantId, [storeId])).has(storeId)) throw notFound(`no store ${storeId}`);
      const qb = m
        .getRepository(StockLevelEntity)
        .createQueryBuilder('l')
        .where('l.tenant_id = :tenantId AND l.store_id = :storeId', { tenantId, storeId })
        .orderBy('l.sku', 'ASC');
      if (skus) qb.andWhere('l.sku = ANY(:skus)', { skus: [...skus] });
      const rows = new Map((await qb.getMany()).map((row) => [row.sku, toStockLevelView(row)]));
      const views = skus ? [...new Set(skus)].map((sku) => rows.get(sku) ?? emptyStockLevel(sku, storeId)) : [...rows.values()];
      return views.map((view) => JSON.stringify(toStockChangedPayload(view)));
    });
  }
}
