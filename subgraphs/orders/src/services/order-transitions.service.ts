import { EventEmitter } from 'node:events';
import type { EntityManager } from 'typeorm';
import { In } from 'typeorm';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { badInput, notFound } from '../../../../lib/errors.js';
import { outboxOf } from '../../../../lib/events/outbox.js';
import type { OrderUpdatedPayload } from '../../../../lib/events/contracts/orders.js';
import { knownStores } from '../../../../lib/events/read-model.js';
import { groupByKey } from '../../../../lib/graphql/batch.js';
import { isUuid } from '../../../../lib/graphql/context.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { requireStoreAccess } from '../../../../lib/graphql/roles.js';
import { formatMoney } from '../../../../lib/money.js';
import { OrderLineEntity } from '../data/entities/order-line.entity.js';
import { OrderTransitionEntity } from '../data/entities/order-transition.entity.js';
import { OrderEntity, type OrderStatus } from '../data/entities/order.entity.js';
import type { OrderWorkflows } from './order-workflow.js';
import type { TransitionSubject } from '../../../../lib/plugins/plugin.js';

const emit = outboxOf('orders');

/** Events the workflow accepts from clients, and what each tells the rest of the system. */
const CLIENT_EVENTS = { pay: 'orders.order.paid', fulfil: 'orders.order.fulfilled', cancel: 'orders.order.cancelled' } as const;

/** Moves orders through their workflow (the version each started on) and records every step. */
export class OrderTransitionsService extends TenantScopedService {
  constructor(
    dataSource: ConstructorParameters<typeof TenantScopedService>[0],
    afterCommit: () => Promise<void>,
    private readonly workflows: OrderWorkflows,
  ) {
    super(dataSource, afterCommit);
  }

  /** Records the first step of a new order and announces it (inside placeOrder's transaction). */
  async started(m: EntityManager, order: OrderEntity): Promise<void> {
    await m.getRepository(OrderTransitionEntity).insert({
      orderId: order.id, seq: 1, tenantId: order.tenantId, fromStatus: null, toStatus: order.status, event: 'place', cause: null,
    });
    await emit(m, order.tenantId, 'orders.order.updated', await this.payload(m, order));
  }

  /** What payments do before a client's transition (set by the app); throws to refuse it. */
  beforeClientMove?: (m: EntityManager, order: OrderEntity, event: keyof typeof CLIENT_EVENTS) => Promise<void>;

  /**
   * A step of payments or fulfilment (workflow v3): `authorize`, `capture`, `payment.declined`,
   * `refund.partial`, `refund.full`, `ship.partial`, `ship.complete`, `ready-for-pickup`,
   * `picked-up`, inside the caller's transaction (the order row locked). A capture announces the
   * order paid; a decline cancels it, so inventory releases its stock; a full refund announces
   * the order refunded, so inventory releases what it still holds; a pickup fulfils it, so
   * inventory sells its reservations (shipments announce their own lines).
   */
  async byStep(m: EntityManager, order: OrderEntity, event: string, cause: string): Promise<void> {
    await this.move(m, order, event, cause);
    if (event === 'capture') await emit(m, order.tenantId, 'orders.order.paid', { id: order.id, storeId: order.storeId });
    if (event === 'payment.declined') await emit(m, order.tenantId, 'orders.order.cancelled', { id: order.id, storeId: order.storeId });
    if (event === 'refund.full') await emit(m, order.tenantId, 'orders.order.refunded', { id: order.id, storeId: order.storeId });
    if (event === 'picked-up') await emit(m, order.tenantId, 'orders.order.fulfilled', { id: order.id, storeId: order.storeId });
  }

  /** Decision hooks at transitions (set by the app): throws when one rejects. */
  decide?: (ctx: SubgraphContext, subject: TransitionSubject) => Promise<void>;

  /** `payOrder`, `fulfillOrder`, `cancelOrder`. */
  async byClient(ctx: SubgraphContext, id: string, event: keyof typeof CLIENT_EVENTS): Promise<OrderEntity> {
    if (!isUuid(id)) throw notFound(`no order ${id}`);
    if (this.decide) await this.decide(ctx, await this.subjectOf(ctx, id, event));
    const order = await this.tx(ctx, async (m, tenantId) => {
      const row = await m.getRepository(OrderEntity).findOne({ where: { tenantId, id }, lock: { mode: 'pessimistic_write' } });
      if (!row) throw notFound(`no order ${id}`);
      requireStoreAccess(ctx, row.storeId);
      // Payments follow the order: `pay` records a captured MANUAL payment, `cancel` voids what is held.
      await this.beforeClientMove?.(m, row, event);
      await this.move(m, row, event, `by ${ctx.roles.join('+') || 'caller'} (request ${ctx.requestId})`);
      await emit(m, tenantId, CLIENT_EVENTS[event], { id: row.id, storeId: row.storeId });
      return row;
    });
    await this.afterCommit();
    return order;
  }

  /** What a decision hook is told about a client's transition; INVALID_TRANSITION first, so no hook is asked about one. */
  private subjectOf(ctx: SubgraphContext, id: string, event: string): Promise<TransitionSubject> {
    return this.tx(ctx, async (m, tenantId) => {
      const row = await m.getRepository(OrderEntity).findOneBy({ tenantId, id });
      if (!row) throw notFound(`no order ${id}`);
      requireStoreAccess(ctx, row.storeId);
      this.workflows.next(row.workflowVersion, row.status, event);
      const lines = await m.getRepository(OrderLineEntity).find({ where: { tenantId, orderId: id }, order: { lineNo: 'ASC' } });
      return { tenantId, event, orderId: id, storeId: row.storeId, status: row.status, lines: lines.map((l) => ({ sku: l.sku, quantity: l.quantity })) };
    });
  }

  /** The saga's answers from inventory; an order that moved on meanwhile (cancelled) ignores them. */
  async bySaga(m: EntityManager, tenantId: string, orderId: string, event: 'reservation.confirmed' | 'reservation.rejected', cause: string): Promise<void> {
    const row = await m.getRepository(OrderEntity).findOne({ where: { tenantId, id: orderId }, lock: { mode: 'pessimistic_write' } });
    if (!row || row.status !== 'PLACED') return;
    await this.move(m, row, event, cause);
    // Checkouts waiting in this process for the saga's answer look again (the commit follows).
    this.sagaAnswered.emit(orderId);
  }

  /** Fires with an order's id when the saga moved it out of PLACED in this process (about to commit). */
  readonly sagaAnswered = new EventEmitter().setMaxListeners(0);

  /** Throws INVALID_TRANSITION when the order's workflow does not take `event` from where the order is. */
  check(order: OrderEntity, event: string): void {
    this.workflows.next(order.workflowVersion, order.status, event);
  }

  private async move(m: EntityManager, order: OrderEntity, event: string, cause: string): Promise<void> {
    const from = order.status;
    const to = this.workflows.next(order.workflowVersion, from, event);
    order.status = to;
    order.version += 1;
    await m.getRepository(OrderEntity).update({ tenantId: order.tenantId, id: order.id }, { status: to, version: order.version });
    await m.getRepository(OrderTransitionEntity).insert({
      orderId: order.id, seq: order.version, tenantId: order.tenantId, fromStatus: from, toStatus: to, event, cause,
    });
    await emit(m, order.tenantId, 'orders.order.updated', await this.payload(m, order));
  }

  /** `orderUpdated`'s value as its events carry it: the whole order, store and variants as references. */
  private async payload(m: EntityManager, order: OrderEntity): Promise<OrderUpdatedPayload> {
    const [lines, history] = await Promise.all([
      m.getRepository(OrderLineEntity).find({ where: { tenantId: order.tenantId, orderId: order.id }, order: { lineNo: 'ASC' } }),
      m.getRepository(OrderTransitionEntity).find({ where: { tenantId: order.tenantId, orderId: order.id }, order: { seq: 'ASC' } }),
    ]);
    const currency = order.currencyCode.trim();
    return {
      __typename: 'Order',
      id: order.id,
      number: order.number,
      status: order.status,
      storeId: order.storeId,
      store: { __typename: 'Store', id: order.storeId },
      lines: lines.map((line) => ({
        sku: line.sku,
        quantity: line.quantity,
        unitPrice: formatMoney(line.unitAmount, currency),
        title: line.title,
        variant: { __typename: 'Variant', sku: line.sku },
      })),
      total: formatMoney(order.totalAmount, currency),
      createdAt: new Date(order.createdAt).toISOString(),
      workflowVersion: order.workflowVersion,
      version: order.version,
      history: history.map(toHistoryEntry),
      // Pricing gives back the coupon uses of a quote whose order ends REJECTED or CANCELLED.
      quoteId: order.quoteId,
    };
  }

  historyByOrderIds(ctx: SubgraphContext, ids: readonly string[]): Promise<HistoryEntry[][]> {
    return this.tx(ctx, async (m, tenantId) => {
      const rows = await m.getRepository(OrderTransitionEntity).find({ where: { tenantId, orderId: In([...ids]) }, order: { seq: 'ASC' } });
      return groupByKey(ids, rows, (row) => row.orderId).map((group) => group.map(toHistoryEntry));
    });
  }

  /** The snapshot behind `orderUpdated`: the order asked for, or nothing for a whole store (after checking it). */
  orderUpdatedSnapshot(ctx: SubgraphContext, orderId: string | null | undefined, storeId: string | null | undefined): Promise<string[]> {
    if (!orderId && !storeId) throw badInput('orderUpdated needs an orderId or a storeId');
    // Events carry no customer: a customer follows one order it may read (row-level security), never a store.
    if (ctx.customerId && !orderId) throw badInput('a customer subscribes to one of its orders: give its orderId', 'orderId');
    return this.tx(ctx, async (m, tenantId) => {
      if (storeId && !(await knownStores(m, tenantId, [storeId])).has(storeId)) throw notFound(`no store ${storeId}`);
      if (!orderId) return [];
      const order = isUuid(orderId) ? await m.getRepository(OrderEntity).findOneBy({ tenantId, id: orderId }) : null;
      if (!order || (storeId && order.storeId !== storeId)) throw notFound(`no order ${orderId}`);
      return [JSON.stringify(await this.payload(m, order))];
    });
  }
}

/** One transition as clients see it. */
export interface HistoryEntry {
  from: OrderStatus | null;
  to: OrderStatus;
  event: string;
  at: string;
  cause: string | null;
}

function toHistoryEntry(row: OrderTransitionEntity): HistoryEntry {
  return { from: row.fromStatus, to: row.toStatus, event: row.event, at: new Date(row.at).toISOString(), cause: row.cause };
}
