import { skuStoreKey } from '../../../../lib/sku.js';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { hotQuery } from '../../../../lib/db/data-source.js';
import { appError, badInput } from '../../../../lib/errors.js';
import { MAX_STOCK_LEVEL } from '../../../../lib/input-bounds.js';
import { metrics } from '../../../../lib/observability/metrics.js';
import { MovementEntity, type MovementKind } from '../data/entities/movement.entity.js';
import { StockLevelEntity } from '../data/entities/stock-level.entity.js';
import { EVENT_VERSIONS, type EventPayload } from '../../../../lib/events/event-map.js';
import { toStockChangedPayload, toStockLevelView, type StockLevelView } from './stock-level.js';

/** Written in the commit's one statement, not through `outboxOf`: its type and version from the event map. */
const STOCK_CHANGED = 'inventory.stock-level.changed' satisfies keyof typeof EVENT_VERSIONS.inventory;
const STOCK_CHANGED_VERSION = EVENT_VERSIONS.inventory[STOCK_CHANGED];
/** Bulk work's one event per batch (decision 0042). */
const STOCKS_CHANGED = 'inventory.stock-levels.changed' satisfies keyof typeof EVENT_VERSIONS.inventory;
const STOCKS_CHANGED_VERSION = EVENT_VERSIONS.inventory[STOCKS_CHANGED];

/** `store:<id>:on_hand` and its kin; anything else (`external:supplier`, …) is outside our stock. */
export const account = {
  onHand: (storeId: string) => `store:${storeId}:on_hand`,
  reserved: (storeId: string) => `store:${storeId}:reserved`,
  inTransit: (storeId: string) => `store:${storeId}:in_transit`,
};

/** One balanced entry: `quantity` units leave `credit` and arrive in `debit`. */
export interface Posting {
  sku: string;
  /** The store the movement is filed under. */
  storeId: string;
  kind: MovementKind;
  quantity: number;
  debit: string;
  credit: string;
  reference?: string | null;
  reservationId?: string | null;
  sourceEventId?: string | null;
}

export interface Levels {
  onHand: number;
  reserved: number;
  inTransit: number;
}

const STORE_ACCOUNT = /^store:([0-9a-f-]{36}):(on_hand|reserved|in_transit)$/;

/**
 * How one side of a posting changes the stock level of its store. The projection keeps on hand
 * as the physical count: available (the on_hand account) plus reserved.
 */
export function applySide(levels: Levels, bucket: string, signed: number): void {
  if (bucket === 'on_hand') levels.onHand += signed;
  else if (bucket === 'reserved') {
    levels.reserved += signed;
    levels.onHand += signed;
  } else if (bucket === 'in_transit') levels.inTransit += signed;
}

/** The (store, bucket) sides of a posting that are ours, with their signs. */
export function sidesOf(posting: Pick<Posting, 'debit' | 'credit' | 'quantity'>): { storeId: string; bucket: string; signed: number }[] {
  const sides: { storeId: string; bucket: string; signed: number }[] = [];
  for (const [name, sign] of [[posting.debit, 1], [posting.credit, -1]] as const) {
    const match = STORE_ACCOUNT.exec(name);
    if (match) sides.push({ storeId: match[1]!, bucket: match[2]!, signed: sign * posting.quantity });
  }
  return sides;
}

/**
 * Posts balanced movements inside the caller's transaction: locks the stock levels first (in
 * one order, so concurrent writers cannot deadlock), appends the movements, updates the
 * projection and refuses anything that would take stock below zero. Each changed level gets
 * its version bumped once per movement and a `stock-level.changed` event; with `oneEvent` (bulk
 * work: a feed batch) a commit that changes several levels writes one `stock-levels.changed`
 * with all of them instead.
 */
export class LedgerBatch {
  private readonly levels = new Map<string, StockLevelEntity>();
  /** Each locked level's `available` as last committed: the events' `previousAvailable`. */
  private readonly committedAvailable = new Map<string, number>();
  private readonly touched = new Map<string, number>();
  private readonly movements: MovementEntity[] = [];
  private readonly reservations: { id: string; sku: string; storeId: string; quantity: number; orderId: string | null; expiresAt: Date | null }[] = [];

  constructor(
    private readonly m: EntityManager,
    private readonly tenantId: string,
    private readonly options: { oneEvent?: boolean } = {},
  ) {}

  /**
   * Locks the levels of `keys`, in one statement when they exist. A missing level is created,
   * after `whenMissing` vouched for its store and sku (a level that exists was vouched for when
   * it was created: stores and skus are never removed).
   */
  async lock(keys: { sku: string; storeId: string }[], whenMissing?: (missing: { sku: string; storeId: string }[]) => Promise<void>): Promise<void> {
    const wanted = [...new Map(keys.map((k) => [skuStoreKey(k.sku, k.storeId), k])).values()].filter(
      (k) => !this.levels.has(skuStoreKey(k.sku, k.storeId)),
    );
    if (wanted.length === 0) return;
    await this.selectForUpdate(wanted);
    const missing = wanted.filter((k) => !this.levels.has(skuStoreKey(k.sku, k.storeId)));
    if (missing.length === 0) return;
    await whenMissing?.(missing);
    await this.m.query(
      `INSERT INTO "${this.m.connection.driver.schema}"."stock_level" (tenant_id, sku, store_id)
       SELECT $1, sku, store_id FROM unnest($2::text[], $3::uuid[]) AS k(sku, store_id) ON CONFLICT DO NOTHING`,
      [this.tenantId, missing.map((k) => k.sku), missing.map((k) => k.storeId)],
    );
    await this.selectForUpdate(missing);
  }

  private async selectForUpdate(keys: { sku: string; storeId: string }[]): Promise<void> {
    // Rows are locked in the ORDER BY's order, the same for every writer: no deadlocks.
    const rows = await hotQuery<{ sku: string; store_id: string; on_hand: number; reserved: number; in_transit: number; version: number; updated_at: Date | null }>(
        this.m,
        'ledger-lock',
        `SELECT l.sku, l.store_id, l.on_hand, l.reserved, l.in_transit, l.version, l.updated_at
           FROM "${this.m.connection.driver.schema}"."stock_level" l
           JOIN unnest($2::text[], $3::uuid[]) AS k(sku, store_id) ON l.sku = k.sku AND l.store_id = k.store_id
          WHERE l.tenant_id = $1
          ORDER BY l.sku, l.store_id
          FOR UPDATE OF l`,
        [this.tenantId, keys.map((k) => k.sku), keys.map((k) => k.storeId)],
      );
    for (const row of rows) {
      this.committedAvailable.set(skuStoreKey(row.sku, row.store_id), row.on_hand - row.reserved);
      this.levels.set(
        skuStoreKey(row.sku, row.store_id),
        Object.assign(new StockLevelEntity(), {
          tenantId: this.tenantId, sku: row.sku, storeId: row.store_id, onHand: row.on_hand, reserved: row.reserved,
          inTransit: row.in_transit, version: row.version, updatedAt: row.updated_at,
        }),
      );
    }
  }

  level(sku: string, storeId: string): StockLevelEntity {
    const level = this.levels.get(skuStoreKey(sku, storeId));
    if (!level) throw new Error(`stock level ${sku}@${storeId} was not locked`);
    return level;
  }

  post(posting: Posting): string {
    if (!Number.isInteger(posting.quantity) || posting.quantity <= 0) throw new Error('a posting moves a positive quantity');
    const changed = new Set<string>();
    for (const side of sidesOf(posting)) {
      applySide(this.level(posting.sku, side.storeId), side.bucket, side.signed);
      changed.add(skuStoreKey(posting.sku, side.storeId));
    }
    // One version step per movement and level, however many of its accounts the movement touched.
    for (const key of changed) this.touched.set(key, (this.touched.get(key) ?? 0) + 1);
    const id = randomUUID();
    this.movements.push(
      this.m.getRepository(MovementEntity).create({
        id,
        tenantId: this.tenantId,
        sku: posting.sku,
        storeId: posting.storeId,
        kind: posting.kind,
        quantity: posting.quantity,
        debitAccount: posting.debit,
        creditAccount: posting.credit,
        reference: posting.reference ?? null,
        reservationId: posting.reservationId ?? null,
        sourceEventId: posting.sourceEventId ?? null,
      }),
    );
    return id;
  }

  /**
   * A change of a store's on-hand stock against an account outside it: units come in from
   * `counterAccount` when `delta` is positive and go out to it when negative. Nothing for zero.
   */
  postOnHandChange(change: {
    sku: string;
    storeId: string;
    kind: MovementKind;
    delta: number;
    counterAccount: string;
    reference?: string | null;
    sourceEventId?: string | null;
  }): boolean {
    if (change.delta === 0) return false;
    const onHand = account.onHand(change.storeId);
    this.post({
      sku: change.sku,
      storeId: change.storeId,
      kind: change.kind,
      quantity: Math.abs(change.delta),
      debit: change.delta > 0 ? onHand : change.counterAccount,
      credit: change.delta > 0 ? change.counterAccount : onHand,
      reference: change.reference ?? null,
      sourceEventId: change.sourceEventId ?? null,
    });
    return true;
  }

  /** A new ACTIVE reservation, written with the batch (its RESERVATION movement is posted separately). */
  addReservation(reservation: { id: string; sku: string; storeId: string; quantity: number; orderId: string | null; expiresAt: Date | null }): void {
    this.reservations.push(reservation);
  }

  /** Writes it all; INSUFFICIENT_STOCK (and nothing written, with the transaction) if a level would go negative. */
  async commit(): Promise<Map<string, StockLevelView>> {
    for (const [key] of this.touched) {
      const level = this.levels.get(key)!;
      if (level.onHand - level.reserved < 0 || level.reserved < 0 || level.inTransit < 0) {
        const available = level.onHand - level.reserved;
        metrics.oversellRefusals.inc();
        throw appError('INSUFFICIENT_STOCK', `not enough ${level.sku} in store ${level.storeId}: that would leave ${available} available`, {
          sku: level.sku,
          storeId: level.storeId,
        });
      }
      // The columns are int4: refuse, as the client's input, what they could not hold.
      if (Math.max(level.onHand, level.reserved, level.inTransit) > MAX_STOCK_LEVEL) {
        throw badInput(`that would put more than ${MAX_STOCK_LEVEL} units of ${level.sku} in one level of store ${level.storeId}`, 'quantity');
      }
    }
    const now = new Date();
    const views = new Map<string, StockLevelView>();
    // Each level's last movement in the batch: of its sku, touching its store (a batch can move
    // one sku in several stores).
    const lastMovement = new Map<string, MovementEntity>();
    for (const mv of this.movements) {
      for (const side of sidesOf({ debit: mv.debitAccount, credit: mv.creditAccount, quantity: mv.quantity })) lastMovement.set(skuStoreKey(mv.sku, side.storeId), mv);
    }
    const changed = [...this.touched].map(([key, count]) => {
      const level = this.levels.get(key)!;
      level.version += count;
      level.updatedAt = now;
      const view = toStockLevelView(level);
      views.set(key, view);
      const last = lastMovement.get(key);
      const event: EventPayload<'inventory.stock-level.changed'> = {
        ...toStockChangedPayload(view),
        movementId: last?.id ?? '',
        kind: last?.kind ?? '',
        quantity: last?.quantity ?? 0,
        previousAvailable: this.committedAvailable.get(key)!,
      };
      this.committedAvailable.set(key, view.available);
      return { level, event };
    });
    const batched = this.options.oneEvent === true && changed.length > 1;
    const outbox = batched ? [JSON.stringify({ changes: changed.map((c) => c.event) })] : changed.map((c) => JSON.stringify(c.event));
    // One statement for every write of the batch: movements, levels, outbox.
    const schema = this.m.connection.driver.schema;
    const mv = this.movements;
    const rs = this.reservations;
    await hotQuery(
      this.m,
      // Named per text: a prepared statement's name stands for one text.
      batched ? 'ledger-commit-batch' : 'ledger-commit',
      `WITH reservations AS (
         INSERT INTO "${schema}"."reservation" (id, tenant_id, sku, store_id, quantity, order_id, status, expires_at, created_at, updated_at)
         SELECT id, $1, sku, store_id, quantity, order_id, 'ACTIVE', expires_at, $17, $17
           FROM unnest($20::uuid[], $21::text[], $22::uuid[], $23::int[], $24::uuid[], $25::timestamptz[]) AS r(id, sku, store_id, quantity, order_id, expires_at)
       ),
       movements AS (
         INSERT INTO "${schema}"."movement"
           (id, tenant_id, sku, store_id, kind, quantity, debit_account, credit_account, reference, reservation_id, source_event_id)
         SELECT id, $1, sku, store_id, kind, quantity, debit, credit, reference, reservation_id, source_event_id
           FROM unnest($2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::int[], $7::text[], $8::text[], $9::text[], $10::uuid[], $11::uuid[])
             AS t(id, sku, store_id, kind, quantity, debit, credit, reference, reservation_id, source_event_id)
       ),
       levels AS (
         UPDATE "${schema}"."stock_level" l
            SET on_hand = v.on_hand, reserved = v.reserved, in_transit = v.in_transit, version = v.version, updated_at = $17
           FROM unnest($12::text[], $13::uuid[], $14::int[], $15::int[], $16::int[], $18::int[]) AS v(sku, store_id, on_hand, reserved, in_transit, version)
          WHERE l.tenant_id = $1 AND l.sku = v.sku AND l.store_id = v.store_id
       )
       INSERT INTO "${schema}"."outbox" (event_id, type, tenant_id, payload, version, occurred_at)
       SELECT gen_random_uuid(), '${batched ? STOCKS_CHANGED : STOCK_CHANGED}', $1, payload, ${batched ? STOCKS_CHANGED_VERSION : STOCK_CHANGED_VERSION}, $17
         FROM unnest($19::jsonb[]) AS e(payload)`,
      [
        this.tenantId,
        mv.map((x) => x.id), mv.map((x) => x.sku), mv.map((x) => x.storeId), mv.map((x) => x.kind), mv.map((x) => x.quantity),
        mv.map((x) => x.debitAccount), mv.map((x) => x.creditAccount), mv.map((x) => x.reference), mv.map((x) => x.reservationId), mv.map((x) => x.sourceEventId),
        changed.map((c) => c.level.sku), changed.map((c) => c.level.storeId), changed.map((c) => c.level.onHand), changed.map((c) => c.level.reserved),
        changed.map((c) => c.level.inTransit), now, changed.map((c) => c.level.version), outbox,
        rs.map((r) => r.id), rs.map((r) => r.sku), rs.map((r) => r.storeId), rs.map((r) => r.quantity), rs.map((r) => r.orderId), rs.map((r) => r.expiresAt),
      ],
    );
    this.touched.clear();
    this.movements.length = 0;
    this.reservations.length = 0;
    return views;
  }
}
