import type { DataSource, EntityManager } from 'typeorm';
import { inSystemTransaction, inTenantTransaction } from '../../../../lib/db/data-source.js';
import { isAppError } from '../../../../lib/errors.js';
import { isUuid } from '../../../../lib/graphql/context.js';
import { isValidSku, skuStoreKey } from '../../../../lib/sku.js';
import { outboxOf } from '../../../../lib/events/outbox.js';
import { pollingWorker } from '../../../../lib/jobs/polling-worker.js';
import { metrics } from '../../../../lib/observability/metrics.js';
import type { IngestionSource } from '../data/entities/ingestion-event.entity.js';
import { LedgerBatch } from '../services/ledger.js';
import { lockKnownLevels } from '../services/set-levels.js';
import { adapt, MalformedPayload, parsePayload, type MenuCommand, type ProductCommand, type StockCommand } from '../../../../lib/webhooks/adapters.js';
import { webhookSource } from '../../../../lib/webhooks/registry.js';
import { upsertSkuMapping } from './ingestion.service.js';

const emit = outboxOf('inventory');
/** Deliveries applied in one transaction at most. */
const GROUP = 50;

export interface IngestionWorkerOptions {
  /** Tries before a failing delivery goes to the dead letters (default 5). */
  maxAttempts?: number;
  /** First retry delay; doubled on each try (default 1 s). */
  backoffMs?: number;
  /** How often due retries are looked for (default 500 ms); new deliveries wake the worker at once. */
  pollMs?: number;
  log?: (message: string) => void;
}

/** Not a failure to retry: a person must map a sku or location (or fix the source) first. */
class NeedsReview extends Error {
  override name = 'NeedsReview';
}

/** A delivery's products went out but its stock failed (`cause`): kept, and recorded as that failure. */
class ProductAppliedStockPending extends Error {
  override name = 'ProductAppliedStockPending';
  constructor(override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

interface Claimed {
  id: string;
  source: IngestionSource;
  topic: string;
  body: string;
  currency_code: string | null;
  /** Null for deliveries stored before source times were kept: the body's time, if any, serves. */
  source_time: Date | null;
  attempts: number;
}

/**
 * Applies stored deliveries in arrival order, each in one transaction with its status, so a
 * delivery is applied exactly once: stock commands through the ledger (movements filed with the
 * delivery's id), products as an event for the catalog and pricing. Unmapped skus or locations
 * send the delivery to review; other failures are retried with backoff, then dead-lettered.
 */
export function createIngestionWorker(dataSource: DataSource, afterCommit: () => Promise<void>, options: IngestionWorkerOptions = {}) {
  const maxAttempts = options.maxAttempts ?? 5;
  const backoffMs = options.backoffMs ?? 1_000;
  const log = options.log ?? console.error;
  let stopped = () => false;

  const due = () =>
    inSystemTransaction(dataSource, (m) =>
      m.query(
        `SELECT id, tenant_id FROM "${m.connection.driver.schema}"."ingestion_event"
          WHERE status IN ('RECEIVED', 'RETRYING') AND next_attempt_at <= now()
          ORDER BY received_at, seq LIMIT 100`,
      ) as Promise<{ id: string; tenant_id: string }[]>,
    );

  async function drain(isStopped: () => boolean): Promise<void> {
    stopped = isStopped;
    for (;;) {
      const batch = await due();
      // Consecutive deliveries of one tenant share a transaction (up to GROUP of them).
      for (let i = 0; i < batch.length && !stopped(); ) {
        const tenantId = batch[i]!.tenant_id;
        const ids: string[] = [];
        while (i < batch.length && batch[i]!.tenant_id === tenantId && ids.length < GROUP) ids.push(batch[i++]!.id);
        await processGroup(tenantId, ids);
      }
      if (batch.length < 100 || stopped()) return;
    }
  }

  /**
   * Applies deliveries in one transaction, each inside a savepoint: one that fails is rolled back
   * alone and recorded (to retry, review or dead-letter) in the same transaction; the others
   * commit together, each with its status. Fewer commits is what lets a burst keep up.
   */
  async function processGroup(tenantId: string, ids: string[]): Promise<void> {
    let applied = 0;
    try {
      await inTenantTransaction(dataSource, tenantId, async (m) => {
        const s = m.connection.driver.schema;
        for (const id of ids) {
          let attempts = 0;
          await m.query('SAVEPOINT delivery');
          try {
            const [event]: Claimed[] = await m.query(
              `SELECT id, source, topic, body, currency_code, source_time, attempts FROM "${s}"."ingestion_event"
                WHERE id = $1 AND status IN ('RECEIVED', 'RETRYING') FOR UPDATE SKIP LOCKED`,
              [id],
            );
            if (!event) {
              await m.query('RELEASE SAVEPOINT delivery');
              continue;
            }
            attempts = event.attempts;
            const note = await apply(m, tenantId, event);
            await m.query(
              `UPDATE "${s}"."ingestion_event" SET status = 'APPLIED', attempts = attempts + 1, applied_at = now(), next_attempt_at = NULL, last_error = NULL, note = $2 WHERE id = $1`,
              [id, note],
            );
            await m.query('RELEASE SAVEPOINT delivery');
            applied++;
            metrics.ingestion.inc({ outcome: 'applied' });
          } catch (error) {
            if (error instanceof ProductAppliedStockPending) {
              await m.query('RELEASE SAVEPOINT delivery');
              await recordFailure(m, id, attempts, error.cause);
              applied++;
            } else {
              await m.query('ROLLBACK TO SAVEPOINT delivery');
              await recordFailure(m, id, attempts, error);
            }
          }
        }
      });
    } catch (error) {
      log(`ingestion: a pass over ${ids.length} deliveries failed (they stay due): ${String(error)}`);
      return;
    }
    if (applied) await afterCommit();
  }

  async function recordFailure(m: EntityManager, id: string, attempts: number, error: unknown): Promise<void> {
    const review = error instanceof NeedsReview || error instanceof MalformedPayload || error instanceof SyntaxError;
    const message = review || isAppError(error) ? (error as Error).message : 'unexpected error (see the inventory log)';
    if (!review && !isAppError(error)) log(`ingestion: event ${id} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    const tries = attempts + 1;
    const status = review ? 'NEEDS_REVIEW' : tries >= maxAttempts ? 'DEAD_LETTER' : 'RETRYING';
    metrics.ingestion.inc({ outcome: status.toLowerCase() });
    const next = status === 'RETRYING' ? new Date(Date.now() + backoffMs * 2 ** (tries - 1)) : null;
    await m.query(
      `UPDATE "${m.connection.driver.schema}"."ingestion_event" SET status = $2, attempts = $3, last_error = $4, next_attempt_at = $5
        WHERE id = $1 AND status IN ('RECEIVED', 'RETRYING')`,
      [id, status, tries, message, next],
    );
  }

  /** Applies one delivery; returns what it left unchanged and why (null: nothing). */
  async function apply(m: EntityManager, tenantId: string, event: Claimed): Promise<string | null> {
    const adapted = adapt(event.source, event.topic, parsePayload(event.body));
    const sourceTime = event.source_time ?? adapted.occurredAt;
    const stock = adapted.commands.filter((c): c is StockCommand => c.kind === 'delta' || c.kind === 'level');
    const products = adapted.commands.filter((c): c is ProductCommand => c.kind === 'product');
    for (const product of products) await applyProduct(m, tenantId, event, product, sourceTime);
    for (const menu of adapted.commands.filter((c): c is MenuCommand => c.kind === 'menu')) await applyMenu(m, tenantId, event, menu, sourceTime);
    if (!stock.length) return null;
    if (!products.length) return applyStock(m, tenantId, event, stock, sourceTime);
    // Stock in a product's payload (WooCommerce): a new product's variants reach inventory only
    // after the catalog applied the product, so its stock waits for a retry while the product
    // goes out now (a retry re-sends the same product state, which changes nothing).
    await m.query('SAVEPOINT product_stock');
    try {
      const note = await applyStock(m, tenantId, event, stock, sourceTime);
      await m.query('RELEASE SAVEPOINT product_stock');
      return note;
    } catch (error) {
      await m.query('ROLLBACK TO SAVEPOINT product_stock');
      throw new ProductAppliedStockPending(error);
    }
  }

  async function applyStock(m: EntityManager, tenantId: string, event: Claimed, commands: StockCommand[], occurredAt: Date | null): Promise<string | null> {
    const targets = await resolveRefs(m, tenantId, event.source, commands);
    const ledger = new LedgerBatch(m, tenantId);
    // A store or sku we map to but whose event has not reached inventory yet: NOT_FOUND, retried.
    await lockKnownLevels(m, tenantId, ledger, targets);
    const stale = await staleLevels(m, tenantId, event.source, commands, targets, occurredAt);
    const counter = `external:${event.source.toLowerCase()}`;
    let posted = 0;
    commands.forEach((command, i) => {
      const { sku, storeId } = targets[i]!;
      let delta: number;
      if (command.kind === 'delta') delta = command.delta;
      else {
        if (stale.has(i)) return;
        if (command.level < 0) throw new NeedsReview(`${command.item} at ${command.location}: level ${command.level} is below zero`);
        delta = command.level - ledger.level(sku, storeId).onHand;
      }
      const reference = `${event.source.toLowerCase()}:${event.topic}`;
      if (ledger.postOnHandChange({ sku, storeId, kind: 'ADJUSTMENT', delta, counterAccount: counter, reference, sourceEventId: event.id })) posted++;
    });
    if (posted) await ledger.commit();
    if (stale.size === 0) return null;
    metrics.ingestionStale.inc({ service: 'inventory', kind: 'level' }, stale.size);
    const left = [...stale].map(([i, newer]) => `${targets[i]!.sku} in store ${targets[i]!.storeId} (${newer.toISOString()} applied)`);
    return `stale: levels from ${occurredAt!.toISOString()} are older than the ones already applied from ${event.source}; left unchanged: ${left.join(', ')}`;
  }

  /** Our (sku, store) for each command; NeedsReview naming every reference that has no mapping. */
  async function resolveRefs(m: EntityManager, tenantId: string, source: IngestionSource, commands: StockCommand[]) {
    const s = m.connection.driver.schema;
    const items = [...new Set(commands.map((c) => c.item))];
    const locations = [...new Set(commands.map((c) => c.location))];
    const skuRows: { external_id: string; sku: string }[] = await m.query(
      `SELECT e.external_id, e.sku FROM "${s}"."external_sku" e WHERE e.tenant_id = $1 AND e.source = $2 AND e.external_id = ANY($3)
       UNION ALL
       SELECT v.sku, v.sku FROM "${s}"."known_variant" v WHERE $4 AND v.tenant_id = $1 AND v.sku = ANY($3)
         AND NOT EXISTS (SELECT 1 FROM "${s}"."external_sku" e WHERE e.tenant_id = $1 AND e.source = $2 AND e.external_id = v.sku)`,
      [tenantId, source, items, !webhookSource(source).ownIdsOnly],
    );
    const storeRows: { external_id: string; store_id: string }[] = await m.query(
      `SELECT e.external_id, e.store_id::text FROM "${s}"."external_location" e WHERE e.tenant_id = $1 AND e.source = $2 AND e.external_id = ANY($3)
       UNION ALL
       SELECT k.code, k.store_id::text FROM "${s}"."known_store" k WHERE $4 AND k.tenant_id = $1 AND k.code = ANY($3)
       UNION ALL
       SELECT k.store_id::text, k.store_id::text FROM "${s}"."known_store" k WHERE $4 AND k.tenant_id = $1 AND k.store_id = ANY($5::uuid[])`,
      [tenantId, source, locations, !webhookSource(source).ownIdsOnly, locations.filter(isUuid)],
    );
    // The source's own map wins over a code or id of ours that happens to match.
    const skuOf = new Map<string, string>();
    for (const row of skuRows) if (!skuOf.has(row.external_id)) skuOf.set(row.external_id, row.sku);
    const storeOf = new Map<string, string>();
    for (const row of storeRows) if (!storeOf.has(row.external_id)) storeOf.set(row.external_id, row.store_id);
    const problems = [
      ...items.filter((item) => !skuOf.has(item)).map((item) => `unmapped ${webhookSource(source).itemNoun} ${item}`),
      ...locations.filter((location) => !storeOf.has(location)).map((location) => `unmapped location ${location}`),
    ];
    if (problems.length) throw new NeedsReview(problems.join('; '));
    return commands.map((c) => ({ sku: skuOf.get(c.item)!, storeId: storeOf.get(c.location)! }));
  }

  /**
   * Level commands older than the last level applied for their (source, sku, store), with that
   * newer time: a late or replayed delivery must not roll stock back. Moves the watermark for the others.
   */
  async function staleLevels(
    m: EntityManager,
    tenantId: string,
    source: IngestionSource,
    commands: StockCommand[],
    targets: { sku: string; storeId: string }[],
    occurredAt: Date | null,
  ): Promise<Map<number, Date>> {
    const stale = new Map<number, Date>();
    if (!occurredAt) return stale;
    const levels = commands.map((c, i) => ({ c, i })).filter(({ c }) => c.kind === 'level');
    if (levels.length === 0) return stale;
    const s = m.connection.driver.schema;
    const rows: { sku: string; store_id: string; occurred_at: Date; newer: boolean }[] = await m.query(
      `INSERT INTO "${s}"."ingestion_watermark" AS w (tenant_id, source, sku, store_id, occurred_at)
       SELECT $1, $2, sku, store_id, $5 FROM unnest($3::text[], $4::uuid[]) AS t(sku, store_id)
       ON CONFLICT (tenant_id, source, sku, store_id) DO UPDATE SET occurred_at = GREATEST(w.occurred_at, EXCLUDED.occurred_at)
       RETURNING sku, store_id::text, occurred_at, (occurred_at = $5) AS newer`,
      [tenantId, source, levels.map(({ i }) => targets[i]!.sku), levels.map(({ i }) => targets[i]!.storeId), occurredAt],
    );
    const newer = new Map(rows.filter((r) => !r.newer).map((r) => [skuStoreKey(r.sku, r.store_id), r.occurred_at]));
    for (const { i } of levels) {
      const applied = newer.get(skuStoreKey(targets[i]!.sku, targets[i]!.storeId));
      if (applied) stale.set(i, applied);
    }
    return stale;
  }

  async function applyProduct(m: EntityManager, tenantId: string, event: Claimed, product: ProductCommand, sourceTime: Date | null): Promise<void> {
    const noSku = product.variants.filter((v) => !v.sku);
    if (noSku.length) throw new NeedsReview(`${product.externalRef}: ${noSku.length} variant(s) without a sku (${noSku.map((v) => v.title).join(', ')})`);
    if (product.variants.length === 0) throw new NeedsReview(`${product.externalRef}: no variants`);
    const invalid = product.variants.filter((v) => !isValidSku(v.sku));
    if (invalid.length) throw new NeedsReview(`${product.externalRef}: sku ${invalid.map((v) => JSON.stringify(v.sku)).join(', ')} is not 1-64 letters, digits, ".", "_" or "-"`);
    for (const variant of product.variants) {
      if (variant.inventoryItemId) await upsertSkuMapping(m, tenantId, event.source, variant.inventoryItemId, variant.sku);
    }
    await emit(m, tenantId, 'inventory.ingestion.product-received', {
      ingestionEventId: event.id,
      source: event.source,
      externalRef: product.externalRef,
      title: product.title,
      description: product.description,
      brand: product.brand,
      published: product.published,
      currencyCode: event.currency_code,
      sourceTime: sourceTime?.toISOString() ?? null,
      ...(product.options ? { options: product.options } : {}),
      ...(product.media ? { media: product.media } : {}),
      variants: product.variants.map(({ sku, title, barcode, price, options, media }) => ({ sku, title, barcode, price, ...(options ? { options } : {}), ...(media ? { media } : {}) })),
    });
  }

  /** A POS menu (decision 0036): its location mapped to our store, then announced for the catalog and pricing. */
  async function applyMenu(m: EntityManager, tenantId: string, event: Claimed, menu: MenuCommand, sourceTime: Date | null): Promise<void> {
    const skus = menu.items.flatMap((item) => [item.sku, ...item.modifierGroups.flatMap((g) => g.modifiers.map((x) => x.sku))]);
    const invalid = skus.filter((sku) => !isValidSku(sku));
    if (invalid.length) throw new NeedsReview(`menu: sku ${invalid.map((sku) => JSON.stringify(sku)).join(', ')} is not 1-64 letters, digits, ".", "_" or "-"`);
    const s = m.connection.driver.schema;
    const [store]: { store_id: string }[] = await m.query(
      `SELECT e.store_id::text FROM "${s}"."external_location" e WHERE e.tenant_id = $1 AND e.source = $2 AND e.external_id = $3
       UNION ALL
       SELECT k.store_id::text FROM "${s}"."known_store" k WHERE k.tenant_id = $1 AND (k.code = $3 OR k.store_id::text = $3)`,
      [tenantId, event.source, menu.location],
    );
    if (!store) throw new NeedsReview(`unmapped location ${menu.location}`);
    await emit(m, tenantId, 'inventory.ingestion.menu-received', {
      ingestionEventId: event.id,
      source: event.source,
      storeId: store.store_id,
      currencyCode: event.currency_code,
      timeZone: menu.timeZone,
      sourceTime: sourceTime?.toISOString() ?? null,
      items: menu.items,
    });
  }

  return pollingWorker(drain, { pollMs: options.pollMs ?? 500, log, name: 'ingestion worker' });
}
