import { randomUUID } from 'node:crypto';
import { In, type EntityManager } from 'typeorm';
import { once } from '../../../../lib/db/idempotency.js';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { appError, badInput, isAppError, notFound } from '../../../../lib/errors.js';
import { metrics } from '../../../../lib/observability/metrics.js';
import { outboxOf } from '../../../../lib/events/outbox.js';
import { isUuid } from '../../../../lib/graphql/context.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { requireStoreAccess } from '../../../../lib/graphql/roles.js';
import { ReservationEntity } from '../data/entities/reservation.entity.js';
import { requireStoreAndVariant } from './inventory.service.js';
import { account, LedgerBatch } from './ledger.js';

const emit = outboxOf('inventory');
export const positive = (quantity: number, field = 'quantity') => {
  if (!Number.isInteger(quantity) || quantity <= 0) throw badInput(`${field} must be greater than zero`, field);
};

/** Reservations (by callers and by the order saga) and their close, all through the ledger; expiry is `reservation-expiry.ts`. */
export class ReservationService extends TenantScopedService {
  async reserve(
    ctx: SubgraphContext,
    input: { sku: string; storeId: string; quantity: number; orderId?: string | null; idempotencyKey?: string | null; ttlSeconds?: number | null },
  ): Promise<ReservationEntity> {
    positive(input.quantity);
    if (input.ttlSeconds !== null && input.ttlSeconds !== undefined && (!Number.isInteger(input.ttlSeconds) || input.ttlSeconds <= 0)) {
      throw badInput('ttlSeconds must be a positive whole number', 'ttlSeconds');
    }
    if (input.orderId && !isUuid(input.orderId)) throw badInput('orderId must be an order id', 'orderId');
    requireStoreAccess(ctx, input.storeId);
    const { idempotencyKey, ...request } = input;
    const { reservation, replayed } = await this.countRefusal(this.tx(ctx, async (m, tenantId) => {
      let made: ReservationEntity | undefined;
      const { result, replayed: again } = await once(m, { tenantId, operation: 'reserveStock', key: idempotencyKey, payload: request }, async () => {
        if (!isUuid(input.storeId)) throw notFound(`no store ${input.storeId}`);
        const ledger = new LedgerBatch(m, tenantId);
        await ledger.lock([{ sku: input.sku, storeId: input.storeId }], () => requireStoreAndVariant(m, tenantId, input.storeId, input.sku));
        const expiresAt = input.ttlSeconds ? new Date(Date.now() + input.ttlSeconds * 1000) : null;
        made = await this.hold(tenantId, { ...input, expiresAt }, ledger);
        await ledger.commit();
        return made.id;
      });
      // A repeat answers with the reservation as it is now.
      return { reservation: made ?? (await m.getRepository(ReservationEntity).findOneByOrFail({ tenantId, id: result })), replayed: again };
    }));
    metrics.reservations.inc({ outcome: 'reserved' });
    if (!replayed) await this.afterCommit();
    return reservation;
  }

  private countRefusal<T>(work: Promise<T>): Promise<T> {
    return work.catch((error: unknown) => {
      if (isAppError(error) && error.extensions.code === 'INSUFFICIENT_STOCK') metrics.reservations.inc({ outcome: 'insufficient_stock' });
      throw error;
    });
  }

  /** Reserves within the caller's transaction (the saga's all-or-nothing uses it for every line). */
  private async hold(
    tenantId: string,
    input: { sku: string; storeId: string; quantity: number; orderId?: string | null; expiresAt: Date | null },
    ledger: LedgerBatch,
  ): Promise<ReservationEntity> {
    await ledger.lock([{ sku: input.sku, storeId: input.storeId }]);
    const now = new Date();
    const reservation = Object.assign(new ReservationEntity(), {
      id: randomUUID(),
      tenantId,
      sku: input.sku,
      storeId: input.storeId,
      quantity: input.quantity,
      orderId: input.orderId ?? null,
      status: 'ACTIVE',
      expiresAt: input.expiresAt,
      createdAt: now,
      updatedAt: now,
    } satisfies ReservationEntity);
    ledger.addReservation(reservation);
    ledger.post({
      sku: input.sku,
      storeId: input.storeId,
      kind: 'RESERVATION',
      quantity: input.quantity,
      debit: account.reserved(input.storeId),
      credit: account.onHand(input.storeId),
      reservationId: reservation.id,
      reference: input.orderId ? `order:${input.orderId}` : null,
    });
    return reservation;
  }

  release(ctx: SubgraphContext, id: string): Promise<ReservationEntity> {
    return this.finish(ctx, id, 'RELEASED');
  }

  commit(ctx: SubgraphContext, id: string): Promise<ReservationEntity> {
    return this.finish(ctx, id, 'COMMITTED');
  }

  private async finish(ctx: SubgraphContext, id: string, to: 'RELEASED' | 'COMMITTED'): Promise<ReservationEntity> {
    if (!isUuid(id)) throw notFound(`no reservation ${id}`);
    const reservation = await this.tx(ctx, async (m, tenantId) => {
      const row = await m.getRepository(ReservationEntity).findOne({ where: { tenantId, id }, lock: { mode: 'pessimistic_write' } });
      if (!row) throw notFound(`no reservation ${id}`);
      requireStoreAccess(ctx, row.storeId);
      const ledger = new LedgerBatch(m, tenantId);
      await closeReservation(m, ledger, row, to);
      await ledger.commit();
      return row;
    });
    await this.afterCommit();
    return reservation;
  }


  /** The saga: reserve every line of a placed order, all or none, then say which. */
  async reserveOrder(m: EntityManager, tenantId: string, placed: { id: string; storeId: string; lines: { sku: string; quantity: number }[] }, eventId: string): Promise<void> {
    // One reservation per sku: an order may carry a sku on two lines (with other modifiers, which hold no stock).
    const bySku = new Map<string, number>();
    for (const line of placed.lines) bySku.set(line.sku, (bySku.get(line.sku) ?? 0) + line.quantity);
    const order = { ...placed, lines: [...bySku].map(([sku, quantity]) => ({ sku, quantity })) };
    const ledger = new LedgerBatch(m, tenantId);
    await ledger.lock(order.lines.map((line) => ({ sku: line.sku, storeId: order.storeId })));
    const short = order.lines.filter((line) => {
      const level = ledger.level(line.sku, order.storeId);
      return level.onHand - level.reserved < line.quantity;
    });
    if (short.length > 0) {
      await emit(m, tenantId, 'inventory.reservation.rejected', {
        orderId: order.id,
        reason: 'INSUFFICIENT_STOCK',
        lines: short.map((line) => ({ sku: line.sku, requested: line.quantity, available: Math.max(0, ledger.level(line.sku, order.storeId).onHand - ledger.level(line.sku, order.storeId).reserved) })),
        causeEventId: eventId,
      });
      return;
    }
    const reservations = [];
    for (const line of order.lines) {
      reservations.push(await this.hold(tenantId, { sku: line.sku, storeId: order.storeId, quantity: line.quantity, orderId: order.id, expiresAt: null }, ledger));
    }
    await ledger.commit();
    await emit(m, tenantId, 'inventory.reservation.confirmed', {
      orderId: order.id,
      reservations: reservations.map((r) => ({ id: r.id, sku: r.sku, quantity: r.quantity })),
      causeEventId: eventId,
    });
  }

  /** Fulfilment commits an order's reservations as sales; cancellation releases them. */
  async closeOrder(m: EntityManager, tenantId: string, orderId: string, to: 'COMMITTED' | 'RELEASED'): Promise<void> {
    const rows = await m.getRepository(ReservationEntity).find({ where: { tenantId, orderId, status: 'ACTIVE' }, lock: { mode: 'pessimistic_write' } });
    const ledger = new LedgerBatch(m, tenantId);
    await ledger.lock(rows.map((row) => ({ sku: row.sku, storeId: row.storeId })));
    for (const row of rows) await closeReservation(m, ledger, row, to);
    await ledger.commit();
  }

  /**
   * A shipment of part of an order (issue 17): each shipped line leaves as a SALE out of the
   * order's reservation of that sku, once (the event is applied once); what is left stays
   * reserved, and the reservation is COMMITTED when nothing is.
   */
  async shipLines(m: EntityManager, tenantId: string, orderId: string, shipmentId: string, lines: readonly { sku: string; quantity: number }[]): Promise<void> {
    const rows = await m.getRepository(ReservationEntity).find({ where: { tenantId, orderId, status: 'ACTIVE', sku: In(lines.map((l) => l.sku)) }, lock: { mode: 'pessimistic_write' } });
    const ledger = new LedgerBatch(m, tenantId);
    await ledger.lock(rows.map((row) => ({ sku: row.sku, storeId: row.storeId })));
    for (const line of lines) {
      const row = rows.find((r) => r.sku === line.sku);
      if (!row || row.quantity < line.quantity) {
        console.error(`inventory: shipment ${shipmentId} of order ${orderId} ships ${line.quantity} × ${line.sku}, more than is reserved (${row?.quantity ?? 0}); skipped`);
        continue;
      }
      ledger.post({
        sku: row.sku,
        storeId: row.storeId,
        kind: 'SALE',
        quantity: line.quantity,
        debit: 'external:customer',
        credit: account.reserved(row.storeId),
        reservationId: row.id,
        reference: `shipment:${shipmentId}`,
      });
      const left = row.quantity - line.quantity;
      await m.getRepository(ReservationEntity).update(
        { tenantId, id: row.id },
        left === 0 ? { status: 'COMMITTED', updatedAt: new Date() } : { quantity: left, updatedAt: new Date() },
      );
    }
    await ledger.commit();
  }

  /** Returned units back on hand (issue 17): one RETURN movement per line, from the customer. */
  async restock(m: EntityManager, tenantId: string, storeId: string, returnId: string, lines: readonly { sku: string; quantity: number }[]): Promise<void> {
    const ledger = new LedgerBatch(m, tenantId);
    await ledger.lock(lines.map((line) => ({ sku: line.sku, storeId })));
    for (const line of lines) {
      ledger.post({ sku: line.sku, storeId, kind: 'RETURN', quantity: line.quantity, debit: account.onHand(storeId), credit: 'external:customer', reference: `return:${returnId}` });
    }
    await ledger.commit();
  }

  reservationsByIds(ctx: SubgraphContext, ids: readonly string[]): Promise<ReservationEntity[]> {
    return this.tx(ctx, (m, tenantId) => m.getRepository(ReservationEntity).findBy({ tenantId, id: In(ids.filter(isUuid)) }));
  }
}

/** RELEASE gives the units back to on hand; SALE takes them out of the store to the customer. */
export async function closeReservation(m: EntityManager, ledger: LedgerBatch, row: ReservationEntity, to: 'RELEASED' | 'COMMITTED' | 'EXPIRED'): Promise<void> {
  if (row.status !== 'ACTIVE') {
    throw appError('RESERVATION_NOT_ACTIVE', `reservation ${row.id} is ${row.status}, not ACTIVE`, { status: row.status });
  }
  await ledger.lock([{ sku: row.sku, storeId: row.storeId }]);
  const sale = to === 'COMMITTED';
  ledger.post({
    sku: row.sku,
    storeId: row.storeId,
    kind: sale ? 'SALE' : 'RELEASE',
    quantity: row.quantity,
    debit: sale ? 'external:customer' : account.onHand(row.storeId),
    credit: account.reserved(row.storeId),
    reservationId: row.id,
    reference: row.orderId ? `order:${row.orderId}` : null,
  });
  row.status = to;
  row.updatedAt = new Date();
  await m.getRepository(ReservationEntity).update({ tenantId: row.tenantId, id: row.id }, { status: to, updatedAt: row.updatedAt });
}
