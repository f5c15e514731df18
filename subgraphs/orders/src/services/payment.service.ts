import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { appError, badInput, notFound } from '../../../../lib/errors.js';
import { groupByKey } from '../../../../lib/graphql/batch.js';
import { isUuid } from '../../../../lib/graphql/context.js';
import { requireRole, requireStoreAccess } from '../../../../lib/graphql/roles.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { formatMoney, parseMoney, type Money } from '../../../../lib/money.js';
import { MalformedEvent, type Authorization, type PaymentProvider, type PaymentProviderName, type PaymentState } from '../../../../lib/payments/provider.js';
import { OrderEntity } from '../data/entities/order.entity.js';
import { fromMinor, toMinor } from './money-minor.js';
import { customerCartHidden } from './cart-access.js';
import type { OrderTransitionsService } from './order-transitions.service.js';

interface PaymentRow {
  id: string;
  tenant_id: string;
  order_id: string;
  provider: PaymentProviderName;
  state: PaymentState;
  reference: string;
  amount: string;
  captured_amount: string;
  refunded_amount: string;
  currency_code: string;
  decline_reason: string | null;
  created_at: Date;
}

interface RefundRow {
  id: string;
  payment_id: string;
  amount: string;
  reason: string | null;
  reference: string;
  created_at: Date;
}

export interface PaymentView {
  id: string;
  provider: PaymentProviderName;
  state: PaymentState;
  amount: Money;
  captured: Money;
  refunded: Money;
  reference: string;
  declineReason: string | null;
  createdAt: string;
}

export interface RefundView {
  id: string;
  /** Its payment's order: part of its `Node` id. */
  orderId: string;
  amount: Money;
  reason: string | null;
  reference: string;
  createdAt: string;
}

const t = (m: EntityManager, table: string) => `"${m.connection.driver.schema}"."${table}"`;
const money = (amount: string, currency: string) => formatMoney(amount, currency.trim());

/** Payments through providers (issue 17): authorise at checkout, capture, void, refund, processors' webhooks. */
export class PaymentService extends TenantScopedService {
  constructor(
    dataSource: ConstructorParameters<typeof TenantScopedService>[0],
    afterCommit: () => Promise<void>,
    private readonly transitions: OrderTransitionsService,
    private readonly providers: Record<PaymentProviderName, PaymentProvider>,
  ) {
    super(dataSource, afterCommit);
  }

  /**
   * Authorises a RESERVED order's total (checkout). Declined: the payment is recorded DECLINED,
   * the order cancelled (inventory releases its stock) and the answer says why. An order that
   * already has a payment (a replayed checkout) is answered as it is.
   */
  async start(ctx: SubgraphContext, orderId: string, providerName: PaymentProviderName, cardNumber: string | null | undefined): Promise<{ state: PaymentState; reason: string | null }> {
    const existing = await this.tx(ctx, (m, tenantId) => this.latest(m, tenantId, orderId));
    if (existing) return { state: existing.state, reason: existing.decline_reason };
    const order = await this.tx(ctx, (m, tenantId) => m.getRepository(OrderEntity).findOneByOrFail({ tenantId, id: orderId }));
    const provider = this.providers[providerName];
    const authorization = (await provider.authorize({
      tenantId: order.tenantId, orderId, amount: order.totalAmount, currencyCode: order.currencyCode.trim(), cardNumber,
    })) as Authorization & { dispatch?: () => void };
    await this.tx(ctx, async (m, tenantId) => {
      const row = await m.getRepository(OrderEntity).findOne({ where: { tenantId, id: orderId }, lock: { mode: 'pessimistic_write' } });
      if (!row) throw notFound(`no order ${orderId}`);
      await m.query(
        `INSERT INTO ${t(m, 'payment')} (id, tenant_id, order_id, customer_id, provider, state, reference, amount, currency_code, decline_reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [randomUUID(), tenantId, orderId, row.customerId ?? null, providerName, authorization.state, authorization.reference, row.totalAmount, row.currencyCode, authorization.state === 'DECLINED' ? authorization.reason : null],
      );
      const cause = `${providerName} ${authorization.reference}`;
      if (authorization.state === 'AUTHORIZED') await this.transitions.byStep(m, row, 'authorize', cause);
      if (authorization.state === 'DECLINED') await this.transitions.byStep(m, row, 'payment.declined', `${cause}: ${authorization.reason}`);
    });
    await this.afterCommit();
    // The processor's confirmation leaves once the payment it names is recorded.
    authorization.dispatch?.();
    return { state: authorization.state, reason: authorization.state === 'DECLINED' ? authorization.reason : null };
  }

  /**
   * `completePaymentAction`: the shopper passed (or failed) the processor's challenge of the
   * cart's order's ACTION_REQUIRED payment. The payment waits (PENDING) for the processor's
   * webhook, sent once this is committed; the cart id is the capability, as for `cart`.
   */
  async completeAction(ctx: SubgraphContext, input: { cartId: string; actionResult: string }): Promise<OrderEntity> {
    if (!input.actionResult.trim()) throw badInput('actionResult must not be empty', 'actionResult');
    let dispatch: (() => void) | undefined;
    const order = await this.tx(ctx, async (m, tenantId) => {
      // Row-level security: a customer's cart is its own; an anonymous one is its holder's.
      const [cart] = /^cart_[\w-]{32}$/.test(input.cartId)
        ? ((await m.query(`SELECT order_id, customer_id FROM ${t(m, 'cart')} WHERE tenant_id = $1 AND id = $2`, [tenantId, input.cartId])) as { order_id: string | null; customer_id: string | null }[])
        : [];
      if (!cart || customerCartHidden(ctx, cart.customer_id)) throw notFound(`no cart ${input.cartId}`);
      const row = cart.order_id ? await m.getRepository(OrderEntity).findOne({ where: { tenantId, id: cart.order_id }, lock: { mode: 'pessimistic_write' } }) : null;
      const payment = row ? await this.latest(m, tenantId, row.id) : undefined;
      if (!row || row.status !== 'RESERVED' || payment?.state !== 'ACTION_REQUIRED') {
        throw appError('INVALID_TRANSITION', 'The cart\'s order has no payment waiting for the shopper\'s action.', { status: row?.status ?? null, event: 'complete-action', workflowVersion: row?.workflowVersion ?? null });
      }
      ({ dispatch } = await this.providers[payment.provider].completeAction({ tenantId, reference: payment.reference, result: input.actionResult.trim() }));
      await m.query(`UPDATE ${t(m, 'payment')} SET state = 'PENDING', updated_at = now() WHERE tenant_id = $1 AND id = $2`, [tenantId, payment.id]);
      return row;
    });
    // The processor's answer leaves once the step is recorded (as after checkout).
    dispatch?.();
    return order;
  }

  /** `capturePayment`: AUTHORIZED → PAID, the authorised amount taken through the provider. */
  async capture(ctx: SubgraphContext, orderId: string): Promise<OrderEntity> {
    if (!isUuid(orderId)) throw notFound(`no order ${orderId}`);
    const order = await this.tx(ctx, async (m, tenantId) => {
      const row = await this.lockedOrder(ctx, m, tenantId, orderId);
      const payment = await this.latest(m, tenantId, orderId);
      if (row.status !== 'AUTHORIZED' || payment?.state !== 'AUTHORIZED') {
        throw appError('INVALID_TRANSITION', `An order in ${row.status} has no authorised payment to capture.`, { status: row.status, event: 'capture', workflowVersion: row.workflowVersion });
      }
      const currency = payment.currency_code.trim();
      const taken = await this.providers[payment.provider].capture(payment.reference, money(payment.amount, currency).amount, currency);
      await m.query(`UPDATE ${t(m, 'payment')} SET state = 'CAPTURED', captured_amount = amount, capture_reference = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [tenantId, payment.id, taken.reference]);
      await this.transitions.byStep(m, row, 'capture', `${payment.provider} ${taken.reference} by ${ctx.roles.join('+')} (request ${ctx.requestId})`);
      return row;
    });
    await this.afterCommit();
    return order;
  }

  /** `refundOrder`: part or all of what is captured and not yet refunded, through the provider. */
  async refund(ctx: SubgraphContext, input: { orderId: string; amount?: string | null; reason?: string | null }): Promise<OrderEntity> {
    if (!isUuid(input.orderId)) throw notFound(`no order ${input.orderId}`);
    const order = await this.tx(ctx, async (m, tenantId) => {
      const row = await this.lockedOrder(ctx, m, tenantId, input.orderId);
      await this.refundLocked(m, row, input.amount == null ? null : parseMoney(input.amount, row.currencyCode.trim()).amount, input.reason ?? null);
      return row;
    });
    await this.afterCommit();
    return order;
  }

  /**
   * Refunds `amount` (all that is left when null) of the order's captured payment through its
   * provider, inside the caller's transaction with the order row locked; returns what was refunded.
   * `capAtLeft`: refund at most what is left (nothing when nothing is) instead of refusing.
   */
  async refundLocked(m: EntityManager, row: OrderEntity, amountAsked: string | null, reason: string | null, capAtLeft = false): Promise<string> {
    const tenantId = row.tenantId;
    const currency = row.currencyCode.trim();
    const [payment] = (await m.query(
      `SELECT * FROM ${t(m, 'payment')} WHERE tenant_id = $1 AND order_id = $2 AND state = 'CAPTURED' ORDER BY created_at DESC LIMIT 1 FOR UPDATE`,
      [tenantId, row.id],
    )) as PaymentRow[];
    if (!payment) throw appError('INVALID_TRANSITION', `An order in ${row.status} has no captured payment to refund.`, { status: row.status, event: 'refund', workflowVersion: row.workflowVersion });
    const left = toMinor(payment.captured_amount, currency) - toMinor(payment.refunded_amount, currency);
    let asked = amountAsked == null ? left : toMinor(amountAsked, currency);
    // A return refunds its lines' price, or what is left of the capture when less.
    if (capAtLeft && asked > left) asked = left;
    if (capAtLeft && asked === 0n) return fromMinor(0n, currency).amount;
    if (asked <= 0n) throw badInput('a refund must be greater than zero', 'amount');
    if (asked > left) {
      throw appError('REFUND_EXCEEDS_CAPTURED', `At most ${fromMinor(left, currency).amount} ${currency} can be refunded (captured ${money(payment.captured_amount, currency).amount}, refunded ${money(payment.refunded_amount, currency).amount}).`, {
        refundable: fromMinor(left, currency).amount,
      });
    }
    const amount = fromMinor(asked, currency).amount;
    // Checked before the provider is asked: INVALID_TRANSITION when the order's workflow has no refunds (v1, v2).
    const full = asked === left;
    this.transitionsCheck(row, full ? 'refund.full' : 'refund.partial');
    const given = await this.providers[payment.provider].refund(payment.reference, amount, currency);
    await m.query(
      `INSERT INTO ${t(m, 'payment_refund')} (id, tenant_id, payment_id, order_id, amount, reason, reference, state) VALUES ($1, $2, $3, $4, $5, $6, $7, 'SUCCEEDED')`,
      [randomUUID(), tenantId, payment.id, row.id, amount, reason, given.reference],
    );
    await m.query(`UPDATE ${t(m, 'payment')} SET refunded_amount = refunded_amount + $3, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [tenantId, payment.id, amount]);
    await this.transitions.byStep(m, row, full ? 'refund.full' : 'refund.partial', `${payment.provider} refund ${given.reference} of ${amount} ${currency}`);
    return amount;
  }

  /** Throws INVALID_TRANSITION when the order's workflow does not take `event` from where it is. */
  private transitionsCheck(order: OrderEntity, event: string): void {
    this.transitions.check(order, event);
  }

  /**
   * `payOrder` records a captured MANUAL payment (PAID only after a capture); an order paid by
   * card is captured, never marked paid. `cancelOrder` voids what the provider holds.
   */
  async beforeClientMove(m: EntityManager, order: OrderEntity, event: 'pay' | 'fulfil' | 'cancel'): Promise<void> {
    if (event === 'fulfil') return;
    const payment = await this.latest(m, order.tenantId, order.id);
    if (event === 'pay') {
      if (payment && payment.provider !== 'MANUAL' && payment.state !== 'DECLINED' && payment.state !== 'VOIDED') {
        throw appError('INVALID_TRANSITION', `The order is paid by ${payment.provider}: capture its payment (capturePayment) instead.`, { status: order.status, event, workflowVersion: order.workflowVersion });
      }
      if (payment?.provider === 'MANUAL' && payment.state === 'PENDING') {
        await m.query(`UPDATE ${t(m, 'payment')} SET state = 'CAPTURED', captured_amount = amount, capture_reference = reference, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [order.tenantId, payment.id]);
      } else {
        const reference = `manual_${randomUUID()}`;
        await m.query(
          `INSERT INTO ${t(m, 'payment')} (id, tenant_id, order_id, customer_id, provider, state, reference, amount, captured_amount, currency_code, capture_reference)
           VALUES ($1, $2, $3, $4, 'MANUAL', 'CAPTURED', $5, $6, $6, $7, $5)`,
          [randomUUID(), order.tenantId, order.id, order.customerId ?? null, reference, order.totalAmount, order.currencyCode],
        );
      }
      return;
    }
    if (payment && ['PENDING', 'ACTION_REQUIRED', 'AUTHORIZED'].includes(payment.state)) {
      if (payment.state === 'AUTHORIZED') await this.providers[payment.provider].void(payment.reference);
      await m.query(`UPDATE ${t(m, 'payment')} SET state = 'VOIDED', updated_at = now() WHERE tenant_id = $1 AND id = $2`, [order.tenantId, payment.id]);
    }
  }

  /**
   * A processor's event the gateway verified: applied once per event id (a duplicate answers
   * `duplicate: true` and changes nothing). An event about a payment not recorded (yet) is
   * refused, so the processor delivers it again.
   */
  receiveWebhook(ctx: SubgraphContext, providerName: PaymentProviderName, eventId: string, body: string): Promise<{ duplicate: boolean }> {
    requireRole(ctx, 'gateway');
    const provider = this.providers[providerName];
    let event;
    try {
      event = provider.parseEvent(body);
    } catch (error) {
      if (error instanceof MalformedEvent) throw badInput(error.message, 'body');
      throw error;
    }
    if (event.id !== eventId) throw badInput('eventId is not the body\'s event id', 'eventId');
    return this.tx(ctx, async (m, tenantId) => {
      const inserted = (await m.query(
        `INSERT INTO ${t(m, 'payment_event')} (tenant_id, provider, event_id, type) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING event_id`,
        [tenantId, providerName, event.id, event.type],
      )) as unknown[];
      if (inserted.length === 0) return { duplicate: true };
      const [payment] = (await m.query(`SELECT * FROM ${t(m, 'payment')} WHERE tenant_id = $1 AND provider = $2 AND reference = $3`, [tenantId, providerName, event.reference])) as PaymentRow[];
      if (!payment) throw notFound(`no ${providerName} payment ${event.reference}`);
      const order = await m.getRepository(OrderEntity).findOne({ where: { tenantId, id: payment.order_id }, lock: { mode: 'pessimistic_write' } });
      if (!order || !['PENDING', 'ACTION_REQUIRED'].includes(payment.state)) return { duplicate: false };
      const cause = `${providerName} event ${event.id}`;
      if (event.type === 'payment.authorized') {
        if (order.status !== 'RESERVED') {
          // The order moved on (cancelled) before the processor answered: release the hold.
          await provider.void(payment.reference);
          await m.query(`UPDATE ${t(m, 'payment')} SET state = 'VOIDED', updated_at = now() WHERE tenant_id = $1 AND id = $2`, [tenantId, payment.id]);
          return { duplicate: false };
        }
        await m.query(`UPDATE ${t(m, 'payment')} SET state = 'AUTHORIZED', updated_at = now() WHERE tenant_id = $1 AND id = $2`, [tenantId, payment.id]);
        await this.transitions.byStep(m, order, 'authorize', cause);
      } else {
        await m.query(`UPDATE ${t(m, 'payment')} SET state = 'DECLINED', decline_reason = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [tenantId, payment.id, event.reason ?? 'card_declined']);
        if (order.status === 'RESERVED') {
          await this.transitions.byStep(m, order, 'payment.declined', `${cause}: ${event.reason ?? 'card_declined'}`);
          // As after a decline at checkout: the shopper may try again with another card.
          await m.query(`UPDATE ${t(m, 'cart')} SET order_id = NULL, updated_at = now() WHERE tenant_id = $1 AND order_id = $2`, [tenantId, order.id]);
        }
      }
      return { duplicate: false };
    }).then(async (receipt) => {
      if (!receipt.duplicate) await this.afterCommit();
      return receipt;
    });
  }

  paymentsByOrderIds(ctx: SubgraphContext, orderIds: readonly string[]): Promise<PaymentView[][]> {
    return this.tx(ctx, async (m, tenantId) => {
      const rows = (await m.query(`SELECT * FROM ${t(m, 'payment')} WHERE tenant_id = $1 AND order_id = ANY($2) ORDER BY created_at, id`, [tenantId, orderIds.filter(isUuid)])) as PaymentRow[];
      return groupByKey(orderIds, rows.map(toView), (p) => p.orderId);
    });
  }

  refundsByPaymentIds(ctx: SubgraphContext, paymentIds: readonly string[]): Promise<RefundView[][]> {
    return this.tx(ctx, async (m, tenantId) => {
      const rows = (await m.query(
        `SELECT r.*, p.currency_code, p.order_id FROM ${t(m, 'payment_refund')} r JOIN ${t(m, 'payment')} p ON p.tenant_id = r.tenant_id AND p.id = r.payment_id
          WHERE r.tenant_id = $1 AND r.payment_id = ANY($2) ORDER BY r.created_at, r.id`,
        [tenantId, [...paymentIds]],
      )) as (RefundRow & { currency_code: string; order_id: string })[];
      return groupByKey(paymentIds, rows, (r) => r.payment_id).map((group) =>
        group.map((r) => ({ id: r.id, orderId: r.order_id, amount: money(r.amount, r.currency_code), reason: r.reason, reference: r.reference, createdAt: new Date(r.created_at).toISOString() })),
      );
    });
  }

  private async lockedOrder(ctx: SubgraphContext, m: EntityManager, tenantId: string, orderId: string): Promise<OrderEntity> {
    const row = await m.getRepository(OrderEntity).findOne({ where: { tenantId, id: orderId }, lock: { mode: 'pessimistic_write' } });
    if (!row) throw notFound(`no order ${orderId}`);
    requireStoreAccess(ctx, row.storeId);
    return row;
  }

  /** The order's latest payment. */
  private async latest(m: EntityManager, tenantId: string, orderId: string): Promise<PaymentRow | undefined> {
    const [row] = (await m.query(`SELECT * FROM ${t(m, 'payment')} WHERE tenant_id = $1 AND order_id = $2 ORDER BY created_at DESC, id LIMIT 1`, [tenantId, orderId])) as PaymentRow[];
    return row;
  }
}

function toView(row: PaymentRow): PaymentView & { orderId: string } {
  const currency = row.currency_code.trim();
  return {
    id: row.id,
    orderId: row.order_id,
    provider: row.provider,
    state: row.state,
    amount: money(row.amount, currency),
    captured: money(row.captured_amount, currency),
    refunded: money(row.refunded_amount, currency),
    reference: row.reference,
    declineReason: row.decline_reason,
    createdAt: new Date(row.created_at).toISOString(),
  };
}



