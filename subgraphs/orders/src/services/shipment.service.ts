import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { badInput, notFound } from '../../../../lib/errors.js';
import { outboxOf } from '../../../../lib/events/outbox.js';
import { groupByKey } from '../../../../lib/graphql/batch.js';
import { isUuid } from '../../../../lib/graphql/context.js';
import { requireStoreAccess } from '../../../../lib/graphql/roles.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { OrderLineEntity } from '../data/entities/order-line.entity.js';
import { OrderEntity } from '../data/entities/order.entity.js';
import type { OrderTransitionsService } from './order-transitions.service.js';

const emit = outboxOf('orders');
const t = (m: EntityManager, table: string) => `"${m.connection.driver.schema}"."${table}"`;

export interface ShipmentView {
  id: string;
  orderId: string;
  carrier: string;
  trackingNumber: string;
  lines: { sku: string; quantity: number }[];
  createdAt: string;
}

export interface CreateShipmentInput {
  orderId: string;
  lines: { sku: string; quantity: number }[];
  carrier: string;
  trackingNumber: string;
}

/** Shipments in parts and pickup in store (issue 17, workflow v3). */
export class ShipmentService extends TenantScopedService {
  constructor(
    dataSource: ConstructorParameters<typeof TenantScopedService>[0],
    afterCommit: () => Promise<void>,
    private readonly transitions: OrderTransitionsService,
  ) {
    super(dataSource, afterCommit);
  }

  async createShipment(ctx: SubgraphContext, input: CreateShipmentInput): Promise<ShipmentView> {
    if (!isUuid(input.orderId)) throw notFound(`no order ${input.orderId}`);
    const carrier = input.carrier.trim();
    const trackingNumber = input.trackingNumber.trim();
    if (!carrier) throw badInput('carrier must not be empty', 'carrier');
    if (!trackingNumber) throw badInput('trackingNumber must not be empty', 'trackingNumber');
    if (input.lines.length === 0) throw badInput('a shipment needs at least one line', 'lines');
    if (new Set(input.lines.map((l) => l.sku)).size !== input.lines.length) throw badInput('each sku may appear on one line only', 'lines');
    for (const line of input.lines) {
      if (!Number.isInteger(line.quantity) || line.quantity <= 0) throw badInput(`quantity of ${line.sku} must be greater than zero`, 'lines.quantity');
    }
    const shipment = await this.tx(ctx, async (m, tenantId) => {
      const order = await this.lockedOrder(ctx, m, tenantId, input.orderId);
      if (order.shipping?.kind === 'PICKUP') throw badInput('a pickup order is not shipped: markReadyForPickup, then markPickedUp', 'orderId');
      // INVALID_TRANSITION first: an order that is not PAID (or partly shipped) ships nothing.
      this.transitions.check(order, 'ship.partial');
      const ordered = await m.getRepository(OrderLineEntity).find({ where: { tenantId, orderId: order.id } });
      const shipped = await this.shippedBySku(m, tenantId, order.id);
      // Shipped by sku: an order may carry a sku on two lines (other modifiers), which ship as one quantity.
      const left = new Map<string, number>();
      for (const l of ordered) left.set(l.sku, (left.get(l.sku) ?? -(shipped.get(l.sku) ?? 0)) + l.quantity);
      for (const line of input.lines) {
        const remaining = left.get(line.sku);
        if (remaining === undefined) throw badInput(`${line.sku} is not a line of the order`, 'lines.sku');
        if (line.quantity > remaining) throw badInput(`only ${remaining} of ${line.sku} are left to ship`, 'lines.quantity');
        left.set(line.sku, remaining - line.quantity);
      }
      const id = randomUUID();
      await m.query(`INSERT INTO ${t(m, 'shipment')} (id, tenant_id, order_id, carrier, tracking_number) VALUES ($1, $2, $3, $4, $5)`, [id, tenantId, order.id, carrier, trackingNumber]);
      await m.query(
        `INSERT INTO ${t(m, 'shipment_line')} (shipment_id, tenant_id, order_id, sku, quantity) SELECT $1, $2, $3, sku, quantity FROM unnest($4::text[], $5::int[]) AS l(sku, quantity)`,
        [id, tenantId, order.id, input.lines.map((l) => l.sku), input.lines.map((l) => l.quantity)],
      );
      const lines = input.lines.map((l) => ({ sku: l.sku, quantity: l.quantity }));
      await emit(m, tenantId, 'orders.shipment.created', { id, orderId: order.id, storeId: order.storeId, lines, carrier, trackingNumber });
      const complete = [...left.values()].every((q) => q === 0);
      await this.transitions.byStep(m, order, complete ? 'ship.complete' : 'ship.partial', `shipment ${id} (${carrier} ${trackingNumber})`);
      return { id, orderId: order.id, carrier, trackingNumber, lines, createdAt: new Date().toISOString() };
    });
    await this.afterCommit();
    return shipment;
  }

  /** `markReadyForPickup` / `markPickedUp`: a pickup order's steps. */
  async pickup(ctx: SubgraphContext, orderId: string, event: 'ready-for-pickup' | 'picked-up'): Promise<OrderEntity> {
    if (!isUuid(orderId)) throw notFound(`no order ${orderId}`);
    const order = await this.tx(ctx, async (m, tenantId) => {
      const row = await this.lockedOrder(ctx, m, tenantId, orderId);
      if (row.shipping?.kind !== 'PICKUP') throw badInput('the order is not a pickup order: ship it (createShipment)', 'orderId');
      await this.transitions.byStep(m, row, event, `by ${ctx.roles.join('+') || 'caller'} (request ${ctx.requestId})`);
      return row;
    });
    await this.afterCommit();
    return order;
  }

  shipmentsByOrderIds(ctx: SubgraphContext, orderIds: readonly string[]): Promise<ShipmentView[][]> {
    return this.tx(ctx, async (m, tenantId) => {
      const ids = orderIds.filter(isUuid);
      const rows = (await m.query(`SELECT * FROM ${t(m, 'shipment')} WHERE tenant_id = $1 AND order_id = ANY($2) ORDER BY created_at, id`, [tenantId, ids])) as { id: string; order_id: string; carrier: string; tracking_number: string; created_at: Date }[];
      const lines = (await m.query(`SELECT shipment_id, sku, quantity FROM ${t(m, 'shipment_line')} WHERE tenant_id = $1 AND order_id = ANY($2) ORDER BY sku`, [tenantId, ids])) as { shipment_id: string; sku: string; quantity: number }[];
      const views = rows.map((r) => ({
        id: r.id, orderId: r.order_id, carrier: r.carrier, trackingNumber: r.tracking_number, createdAt: new Date(r.created_at).toISOString(),
        lines: lines.filter((l) => l.shipment_id === r.id).map((l) => ({ sku: l.sku, quantity: l.quantity })),
      }));
      return groupByKey(orderIds, views, (v) => v.orderId);
    });
  }

  private async shippedBySku(m: EntityManager, tenantId: string, orderId: string): Promise<Map<string, number>> {
    const rows = (await m.query(`SELECT sku, sum(quantity)::int AS quantity FROM ${t(m, 'shipment_line')} WHERE tenant_id = $1 AND order_id = $2 GROUP BY sku`, [tenantId, orderId])) as { sku: string; quantity: number }[];
    return new Map(rows.map((r) => [r.sku, r.quantity]));
  }

  private async lockedOrder(ctx: SubgraphContext, m: EntityManager, tenantId: string, orderId: string): Promise<OrderEntity> {
    const row = await m.getRepository(OrderEntity).findOne({ where: { tenantId, id: orderId }, lock: { mode: 'pessimistic_write' } });
    if (!row) throw notFound(`no order ${orderId}`);
    requireStoreAccess(ctx, row.storeId);
    return row;
  }
}
