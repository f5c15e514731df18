import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { appError } from '../../../../lib/errors.js';
import { typedOutbox } from '../../../../lib/events/outbox.js';
import { MovementEntity, type MovementKind } from '../data/entities/movement.entity.js';
import { StockLevelEntity } from '../data/entities/stock-level.entity.js';
import type { InventoryEvents } from '../events/inventory-events.js';
import { toStockChangedPayload, toStockLevelView, type StockLevelView } from './stock-level.js';

const emit = typedOutbox<InventoryEvents>();

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
export const levelKey = (sku: string, storeId: string) => `${sku}\n${storeId}`;

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
 * its version bumped once per movement and a `stock-level.changed` event.
 */
export class LedgerBatch {
  private readonly levels = new Map<string, StockLevelEntity>();
  private readonly touched = new Map<string, number>();
  private readonly movements: MovementEntity[] = [];

  constructor(
    private readonly m: EntityManager,
    private readonly tenantId: string,
  ) {}

  async lock(keys: { sku: string; storeId: string }[]): Promise<void> {
    const wanted = [...new Map(keys.map((k) => [levelKey(k.sku, k.storeId), k])).entries()]
      .filter(([key]) => !this.levels.has(key))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const schema = this.m.connection.driver.schema;
    for (const [key, { sku, storeId }] of wanted) {
      await this.m.query(`INSERT INTO "${schema}"."stock_level" (tenant_id, sku, store_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [
        this.tenantId,
        sku,
        storeId,
      ]);
      const level = await this.m
        .getRepository(StockLevelEntity)
        .findOneOrFail({ where: { tenantId: this.tenantId, sku, storeId }, lock: { mode: 'pessimistic_write' } });
      this.levels.set(key, level);
    }
  }

  level(sku: string, storeId: string): StockLevelEntity {
    const level = this.levels.get(levelKey(sku, storeId));
    if (!level) throw new Error(`stock level ${sku}@${storeId} was not locked`);
    return level;
  }

  post(posting: Posting): string {
    if (!Number.isInteger(posting.quantity) || posting.quantity <= 0) throw new Error('a posting moves a positive quantity');
    const changed = new Set<string>();
    for (const side of sidesOf(posting)) {
      applySide(this.level(posting.sku, side.storeId), side.bucket, side.signed);
      changed.add(levelKey(posting.sku, side.storeId));
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

  /** Writes it all; INSUFFICIENT_STOCK (and nothing written, with the transaction) if a level would go negative. */
  async commit(): Promise<Map<string, StockLevelView>> {
    for (const [key] of this.touched) {
      const level = this.levels.get(key)!;
      if (level.onHand - level.reserved < 0 || level.reserved < 0 || level.inTransit < 0) {
        const available = level.onHand - level.reserved;
        throw appError('INSUFFICIENT_STOCK', `not enough ${level.sku} in store ${level.storeId}: that would leave ${available} available`, {
          sku: level.sku,
          storeId: level.storeId,
        });
      }
    }
    if (this.movements.length) await this.m.getRepository(MovementEntity).insert(this.movements);
    const views = new Map<string, StockLevelView>();
    const now = new Date();
    for (const [key, count] of this.touched) {
      const level = this.levels.get(key)!;
      level.version += count;
      level.updatedAt = now;
      await this.m.getRepository(StockLevelEntity).update(
        { tenantId: this.tenantId, sku: level.sku, storeId: level.storeId },
        { onHand: level.onHand, reserved: level.reserved, inTransit: level.inTransit, version: level.version, updatedAt: now },
      );
      const view = toStockLevelView(level);
      views.set(key, view);
      const last = [...this.movements].reverse().find((mv) => mv.sku === level.sku);
      await emit(this.m, this.tenantId, 'inventory.stock-level.changed', {
        ...toStockChangedPayload(view),
        movementId: last?.id ?? '',
        kind: last?.kind ?? '',
        quantity: last?.quantity ?? 0,
      });
    }
    this.touched.clear();
    this.movements.length = 0;
    return views;
  }
}
