import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { appError, badInput, notFound } from '../../../../lib/errors.js';
import { outboxOf } from '../../../../lib/events/outbox.js';
import { groupByKey } from '../../../../lib/graphql/batch.js';
import { isUuid } from '../../../../lib/graphql/context.js';
import { requireStoreAccess } from '../../../../lib/graphql/roles.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { formatMoney, sumMoney, type Money } from '../../../../lib/money.js';
import { OrderLineEntity } from '../data/entities/order-line.entity.js';
import { OrderEntity } from '../data/entities/order.entity.js';
import { fromMinor, toMinor } from './money-minor.js';
import type { PaymentService } from './payment.service.js';

const emit = outboxOf('orders');
const t = (m: EntityManager, table: string) => `"${m.connection.driver.schema}"."${table}"`;

export interface ReturnView {
  id: string;
  orderId: string;
  status: ReturnStatus;
  reason: string | null;
  lines: { sku: string; quantity: number }[];
  restocked: boolean | null;
  refund: Money | null;
  shippingRefunded: boolean | null;
  createdAt: string;
  receivedAt: string | null;
  cancelledAt: string | null;
  cancelReason: string | null;
}

interface ReturnRow {
  id: string;
  order_id: string;
  status: ReturnStatus;
  reason: string | null;
  restocked: boolean | null;
  refund_amount: string | null;
  created_at: Date;
  received_at: Date | null;
  shipping_refunded: boolean | null;
  cancelled_at: Date | null;
  cancel_reason: string | null;
}

type ReturnStatus = 'REQUESTED' | 'RECEIVED' | 'CANCELLED';

/** Returns (issue 17): shipped units sent back, restocked through the ledger and refunded through the provider. */
export class ReturnService extends TenantScopedService {
  constructor(
    dataSource: ConstructorParameters<typeof TenantScopedService>[0],
    afterCommit: () => Promise<void>,
    private readonly payments: PaymentService,
  ) {
    super(dataSource, afterCommit);
  }

  async requestReturn(ctx: SubgraphContext, input: { orderId: string; lines: { sku: string; quantity: number }[]; reason?: string | null }): Promise<ReturnView> {
    if (!isUuid(input.orderId)) throw notFound(`no order ${input.orderId}`);
    if (input.lines.length === 0) throw badInput('a return needs at least one line', 'lines');
    if (new Set(input.lines.map((l) => l.sku)).size !== input.lines.length) throw badInput('each sku may appear on one line only', 'lines');
    for (const line of input.lines) {
      if (!Number.isInteger(line.quantity) || line.quantity <= 0) throw badInput(`quantity of ${line.sku} must be greater than zero`, 'lines.quantity');
    }
    const view = await this.tx(ctx, async (m, tenantId) => {
      // Row-level security: a customer finds its own orders only.
      const order = await this.lockedOrder(ctx, m, tenantId, input.orderId);
      const shipped = await this.sumBySku(m, `SELECT sku, sum(quantity)::int AS quantity FROM ${t(m, 'shipment_line')} WHERE tenant_id = $1 AND order_id = $2 GROUP BY sku`, tenantId, order.id);
      if (order.status === 'FULFILLED' && shipped.size === 0) {
        // Fulfilled as a whole (fulfillOrder, pickup): every line left.
        for (const line of await m.getRepository(OrderLineEntity).find({ where: { tenantId, orderId: order.id } })) shipped.set(line.sku, line.quantity);
      }
      const returned = await this.sumBySku(m, `SELECT l.sku, sum(l.quantity)::int AS quantity FROM ${t(m, 'order_return_line')} l JOIN ${t(m, 'order_return')} r ON r.tenant_id = l.tenant_id AND r.id = l.return_id
          WHERE l.tenant_id = $1 AND l.order_id = $2 AND r.status <> 'CANCELLED' GROUP BY l.sku`, tenantId, order.id);
      for (const line of input.lines) {
        const left = (shipped.get(line.sku) ?? 0) - (returned.get(line.sku) ?? 0);
        if (line.quantity > left) throw badInput(`only ${Math.max(left, 0)} of ${line.sku} were shipped and not returned yet`, 'lines.quantity');
      }
      const id = randomUUID();
      await m.query(`INSERT INTO ${t(m, 'order_return')} (id, tenant_id, order_id, customer_id, status, reason) VALUES ($1, $2, $3, $4, 'REQUESTED', $5)`, [id, tenantId, order.id, order.customerId ?? null, input.reason ?? null]);
      await m.query(
        `INSERT INTO ${t(m, 'order_return_line')} (return_id, tenant_id, order_id, sku, quantity) SELECT $1, $2, $3, sku, quantity FROM unnest($4::text[], $5::int[]) AS l(sku, quantity)`,
        [id, tenantId, order.id, input.lines.map((l) => l.sku), input.lines.map((l) => l.quantity)],
      );
      return (await this.views(m, tenantId, [order.id]))[0]!.find((r) => r.id === id)!;
    });
    return view;
  }

  /** The parcel arrived: restock (RETURN movements, by event) and refund the lines' price through the provider. */
  async receiveReturn(ctx: SubgraphContext, input: { returnId: string; restock: boolean; refundShipping?: boolean | null }): Promise<ReturnView> {
    if (!isUuid(input.returnId)) throw notFound(`no return ${input.returnId}`);
    const view = await this.tx(ctx, async (m, tenantId) => {
      const [found] = (await m.query(`SELECT * FROM ${t(m, 'order_return')} WHERE tenant_id = $1 AND id = $2`, [tenantId, input.returnId])) as ReturnRow[];
      if (!found) throw notFound(`no return ${input.returnId}`);
      const order = await this.lockedOrder(ctx, m, tenantId, found.order_id);
      const [ret] = (await m.query(`SELECT * FROM ${t(m, 'order_return')} WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [tenantId, found.id])) as ReturnRow[];
      if (ret!.status !== 'REQUESTED') throw appError('INVALID_TRANSITION', `The return is ${ret!.status} already.`, { status: ret!.status, event: 'receive' });
      const lines = (await m.query(`SELECT sku, quantity FROM ${t(m, 'order_return_line')} WHERE tenant_id = $1 AND return_id = $2 ORDER BY sku`, [tenantId, ret!.id])) as { sku: string; quantity: number }[];
      const ordered = await m.getRepository(OrderLineEntity).find({ where: { tenantId, orderId: order.id } });
      const currency = order.currencyCode.trim();
      const refundShipping = input.refundShipping === true;
      if (refundShipping) {
        const [done] = (await m.query(`SELECT id FROM ${t(m, 'order_return')} WHERE tenant_id = $1 AND order_id = $2 AND shipping_refunded`, [tenantId, order.id])) as { id: string }[];
        if (done) throw badInput(`the order's shipping was refunded already (return ${done.id})`, 'refundShipping');
      }
      const value = sumMoney([
        ...lines.map((l) => ({ amount: fromMinor(refundFor(order, ordered, l.sku, l.quantity, currency), currency).amount, quantity: 1 })),
        ...(refundShipping && order.shipping ? [{ amount: order.shipping.amount, quantity: 1 }] : []),
      ], currency);
      const refunded = await this.payments.refundLocked(m, order, value.amount, `return ${ret!.id}`, true);
      await m.query(
        `UPDATE ${t(m, 'order_return')} SET status = 'RECEIVED', restocked = $3, refund_amount = $4, shipping_refunded = $5, received_at = now() WHERE tenant_id = $1 AND id = $2`,
        [tenantId, ret!.id, input.restock, refunded, refundShipping],
      );
      await emit(m, tenantId, 'orders.return.received', { id: ret!.id, orderId: order.id, storeId: order.storeId, lines, restock: input.restock });
      return (await this.views(m, tenantId, [order.id]))[0]!.find((r) => r.id === ret!.id)!;
    });
    await this.afterCommit();
    return view;
  }

  /** `cancelReturn`: a REQUESTED return withdrawn (its customer) or refused (staff); its units may be asked for again. */
  async cancelReturn(ctx: SubgraphContext, input: { returnId: string; reason?: string | null }): Promise<ReturnView> {
    if (!isUuid(input.returnId)) throw notFound(`no return ${input.returnId}`);
    return this.tx(ctx, async (m, tenantId) => {
      // Row-level security: a customer finds its own returns only.
      const [found] = (await m.query(`SELECT order_id FROM ${t(m, 'order_return')} WHERE tenant_id = $1 AND id = $2`, [tenantId, input.returnId])) as { order_id: string }[];
      if (!found) throw notFound(`no return ${input.returnId}`);
      const order = await this.lockedOrder(ctx, m, tenantId, found.order_id);
      const [ret] = (await m.query(`SELECT status FROM ${t(m, 'order_return')} WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [tenantId, input.returnId])) as { status: ReturnStatus }[];
      if (ret!.status !== 'REQUESTED') throw appError('INVALID_TRANSITION', `The return is ${ret!.status} already.`, { status: ret!.status, event: 'cancel' });
      await m.query(`UPDATE ${t(m, 'order_return')} SET status = 'CANCELLED', cancelled_at = now(), cancel_reason = $3 WHERE tenant_id = $1 AND id = $2`, [tenantId, input.returnId, input.reason?.trim() || null]);
      return (await this.views(m, tenantId, [order.id]))[0]!.find((r) => r.id === input.returnId)!;
    });
  }

  returnsByOrderIds(ctx: SubgraphContext, orderIds: readonly string[]): Promise<ReturnView[][]> {
    return this.tx(ctx, (m, tenantId) => this.views(m, tenantId, orderIds));
  }

  private async views(m: EntityManager, tenantId: string, orderIds: readonly string[]): Promise<ReturnView[][]> {
    const ids = orderIds.filter(isUuid);
    const rows = (await m.query(
      `SELECT r.*, o.currency_code FROM ${t(m, 'order_return')} r JOIN ${t(m, 'order')} o ON o.tenant_id = r.tenant_id AND o.id = r.order_id
        WHERE r.tenant_id = $1 AND r.order_id = ANY($2) ORDER BY r.created_at, r.id`,
      [tenantId, ids],
    )) as (ReturnRow & { currency_code: string })[];
    const lines = (await m.query(`SELECT return_id, sku, quantity FROM ${t(m, 'order_return_line')} WHERE tenant_id = $1 AND order_id = ANY($2) ORDER BY sku`, [tenantId, ids])) as { return_id: string; sku: string; quantity: number }[];
    const views: ReturnView[] = rows.map((r) => ({
      id: r.id, orderId: r.order_id, status: r.status, reason: r.reason, restocked: r.restocked,
      refund: r.refund_amount === null ? null : formatMoney(r.refund_amount, r.currency_code.trim()),
      shippingRefunded: r.shipping_refunded, cancelledAt: r.cancelled_at ? new Date(r.cancelled_at).toISOString() : null, cancelReason: r.cancel_reason,
      createdAt: new Date(r.created_at).toISOString(), receivedAt: r.received_at ? new Date(r.received_at).toISOString() : null,
      lines: lines.filter((l) => l.return_id === r.id).map((l) => ({ sku: l.sku, quantity: l.quantity })),
    }));
    return groupByKey(orderIds, views, (v) => v.orderId);
  }

  private async sumBySku(m: EntityManager, sql: string, tenantId: string, orderId: string): Promise<Map<string, number>> {
    const rows = (await m.query(sql, [tenantId, orderId])) as { sku: string; quantity: number }[];
    return new Map(rows.map((r) => [r.sku, r.quantity]));
  }

  private async lockedOrder(ctx: SubgraphContext, m: EntityManager, tenantId: string, orderId: string): Promise<OrderEntity> {
    const row = await m.getRepository(OrderEntity).findOne({ where: { tenantId, id: orderId }, lock: { mode: 'pessimistic_write' } });
    if (!row) throw notFound(`no order ${orderId}`);
    if (!ctx.customerId) requireStoreAccess(ctx, row.storeId);
    return row;
  }
}

/**
 * What `quantity` returned units of `sku` refund: what was paid for its units, pro rata over the
 * units of the order's lines of that sku, rounded down (so returns never add up to more than was
 * paid). A unit's worth is, on a quoted order, its quote line's total (after discounts, with tax)
 * per unit plus the same for each of its line's modifiers; on an order placed without a quote, its
 * line's unit price (modifiers included). A sku on two lines (other modifiers, other prices)
 * refunds their average: a return names skus, not lines.
 */
export function refundFor(order: OrderEntity, ordered: OrderLineEntity[], sku: string, quantity: number, currency: string): bigint {
  const skuLines = ordered.filter((o) => o.sku === sku);
  const units = skuLines.reduce((sum, o) => sum + o.quantity, 0);
  if (units === 0) return 0n;
  const quoted = new Map(order.quote?.lines.map((q) => [q.sku, q]));
  if (!order.quote || !quoted.has(sku)) {
    const paid = skuLines.reduce((sum, o) => sum + toMinor(o.unitAmount, currency) * BigInt(o.quantity), 0n);
    return (paid * BigInt(quantity)) / BigInt(units);
  }
  // Σ over the sku's lines of units × (the sku's and each modifier's quoted total per unit), kept as one fraction.
  let numerator = 0n;
  let denominator = 1n;
  const add = (total: bigint, per: number, times: number) => {
    numerator = numerator * BigInt(per) + total * BigInt(times) * denominator;
    denominator *= BigInt(per);
  };
  for (const line of skuLines) {
    for (const charged of [sku, ...line.modifiers.map((m) => m.sku)]) {
      const q = quoted.get(charged);
      if (q && q.quantity > 0) add(toMinor(q.total, currency), q.quantity, line.quantity);
    }
  }
  return (numerator * BigInt(quantity)) / (denominator * BigInt(units));
}

