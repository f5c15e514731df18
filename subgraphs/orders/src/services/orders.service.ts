import { randomUUID } from 'node:crypto';
import { In, type EntityManager } from 'typeorm';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { once } from '../../../../lib/db/idempotency.js';
import { appError, badInput, notFound } from '../../../../lib/errors.js';
import { verifyQuote, type SignedQuote } from '../../../../lib/pricing/quote-token.js';
import { alignByKey, groupByKey } from '../../../../lib/graphql/batch.js';
import { isUuid, requireTenant } from '../../../../lib/graphql/context.js';
import { decodeCursor, pageSize, toConnection, type Connection } from '../../../../lib/graphql/pagination.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { requireStoreAccess } from '../../../../lib/graphql/roles.js';
import { outboxOf } from '../../../../lib/events/outbox.js';
import { knownStores } from '../../../../lib/events/read-model.js';
import { fitsStoredAmount, formatMoney, MAX_AMOUNT_WHOLE_DIGITS, sumMoney } from '../../../../lib/money.js';
import { OrderLineEntity } from '../data/entities/order-line.entity.js';
import { OrderEntity } from '../data/entities/order.entity.js';
import type { OrderTransitionsService } from './order-transitions.service.js';
import type { WorkflowChoice } from './order-workflow.js';
import type { CheckoutDetails } from './cart.service.js';
import { checkAvailability, chosenModifiers, unitWithModifiers } from './modifiers.js';

const emit = outboxOf('orders');

export interface PlaceOrderInput {
  storeId: string;
  lines: { sku: string; quantity: number; modifiers?: string[] | null }[];
  idempotencyKey?: string | null;
  quoteToken?: string | null;
}

/** A new order's id and workflow version (`OrdersService.placement`). */
export interface Placement {
  id: string;
  workflowVersion: number;
}

/** How many of each sku an order charges: its lines' skus and each line's modifiers, times the line's quantity. */
export function quantitiesPerSku(lines: readonly { sku: string; quantity: number; modifiers?: readonly string[] | null }[]): Map<string, number> {
  const per = new Map<string, number>();
  for (const line of lines) {
    for (const sku of [line.sku, ...(line.modifiers ?? [])]) per.set(sku, (per.get(sku) ?? 0) + line.quantity);
  }
  return per;
}

/** Orders and their lines, charged the pricing quote their caller hands over (titles from the catalog's events). */
export class OrdersService extends TenantScopedService {
  constructor(
    dataSource: ConstructorParameters<typeof TenantScopedService>[0],
    afterCommit: () => Promise<void>,
    private readonly transitions: OrderTransitionsService,
    /** The workflow version a new order starts on (the tenant's flag). */
    readonly chooseWorkflow: WorkflowChoice,
    /** The secret the gateway and subgraphs share: pricing signs quotes with a key derived from it. */
    private readonly secret: string,
  ) {
    super(dataSource, afterCommit);
  }

  /** Order ids the saga just answered for, in this process (checkout waits on it). */
  get sagaAnswered() {
    return this.transitions.sagaAnswered;
  }

  async placeOrder(ctx: SubgraphContext, input: PlaceOrderInput): Promise<OrderEntity> {
    requireStoreAccess(ctx, input.storeId);
    if (input.lines.length === 0) throw badInput('an order needs at least one line', 'lines');
    for (const line of input.lines) {
      if (!Number.isInteger(line.quantity) || line.quantity <= 0) throw badInput(`quantity of ${line.sku} must be greater than zero`, 'lines.quantity');
    }
    // A sku may be on two lines with other modifiers (a latte with oat milk, one with soy), not twice with the same.
    if (new Set(input.lines.map((l) => JSON.stringify([l.sku, [...(l.modifiers ?? [])].sort()]))).size !== input.lines.length) {
      throw badInput('each sku with its modifiers may appear on one line only', 'lines');
    }
    // Every order is charged a quote of the pricing engine (decision 0019): orders never prices by itself.
    if (!input.quoteToken) {
      throw appError('QUOTE_REQUIRED', 'placeOrder needs a quoteToken: price the order\'s skus (each line\'s sku and its modifiers) with pricing\'s `quote`, or `claimQuote` when a coupon or limited promotion applies, and pass its token');
    }
    const quote = this.chargeableQuote(ctx, input);
    // A hook is asked about an order that can be placed: priced by a valid quote.
    await this.transitions.decide?.(ctx, { tenantId: requireTenant(ctx), event: 'place', orderId: null, storeId: input.storeId, status: null, lines: input.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })) });
    const { idempotencyKey, ...request } = input;
    // Before the transaction: a flag read may need the database (embedded PGlite: one session).
    const placement = await this.placement(ctx, input.storeId);
    // The answer is the order as placed (PLACED): the saga moves it on afterwards, by events.
    const { order, replayed } = await this.tx(ctx, async (m, tenantId) => {
      const { result: orderId, replayed: again } = await once(m, { tenantId, operation: 'placeOrder', key: idempotencyKey, payload: request }, () =>
        this.insertOrder(m, tenantId, input, quote, placement),
      ).catch((error: unknown) => {
        // Two orders racing for one quote: the unique index lets one through.
        if ((error as { code?: string }).code === '23505' && String((error as { constraint?: string }).constraint) === 'order_quote') {
          throw appError('QUOTE_INVALID', 'this quote was already charged by another order');
        }
        throw error;
      });
      return { order: await m.getRepository(OrderEntity).findOneByOrFail({ tenantId, id: orderId }), replayed: again };
    });
    if (!replayed) await this.afterCommit();
    return order;
  }

  /** The quote a token carries, when it may charge this order; QUOTE_INVALID or QUOTE_EXPIRED otherwise. */
  chargeableQuote(ctx: SubgraphContext, input: PlaceOrderInput): SignedQuote {
    const quote = verifyQuote(this.secret, input.quoteToken!, ctx.tenantId ?? '');
    if (quote === 'EXPIRED') throw appError('QUOTE_EXPIRED', 'the quote expired; ask pricing for a new one');
    if (typeof quote === 'string') throw appError('QUOTE_INVALID', quote === 'TAMPERED' ? 'the quote token was altered' : 'the quote token is not a quote of this tenant');
    if (quote.storeId !== input.storeId) throw appError('QUOTE_INVALID', 'the quote is for another store');
    // The quote prices every sku the order charges: each line's sku and its modifiers, per sku.
    const wanted = quantitiesPerSku(input.lines);
    const quoted = new Map<string, number>();
    for (const l of quote.lines) quoted.set(l.sku, (quoted.get(l.sku) ?? 0) + l.quantity);
    const differs = [...new Set([...wanted.keys(), ...quoted.keys()])].find((sku) => wanted.get(sku) !== quoted.get(sku));
    if (differs !== undefined) {
      throw appError('QUOTE_INVALID', `the order's lines are not the quote's lines: ${differs} is ${wanted.get(differs) ?? 0} in the order (its lines and their modifiers) and ${quoted.get(differs) ?? 0} in the quote`);
    }
    if (quote.limited && !quote.claimed) throw appError('QUOTE_INVALID', 'the quote applies a coupon or a limited promotion: claim it with claimQuote first');
    return quote;
  }

  /** A new order's id and the workflow version it starts on, chosen before its transaction. */
  async placement(ctx: SubgraphContext, storeId: string): Promise<Placement> {
    const id = randomUUID();
    return { id, workflowVersion: await this.chooseWorkflow(ctx, storeId, id) };
  }

  /** A checkout's order (issue 17), inside the checkout's transaction. */
  insertOrderIn(m: EntityManager, tenantId: string, input: PlaceOrderInput, quote: SignedQuote, placement: Placement, checkout: CheckoutDetails): Promise<string> {
    return this.insertOrder(m, tenantId, input, quote, placement, checkout);
  }

  /** An order charged `quote` (verified by `chargeableQuote`): its prices, discounts and tax; orders never prices by itself. */
  private async insertOrder(m: EntityManager, tenantId: string, input: PlaceOrderInput, quote: SignedQuote, placement: Placement, checkout?: CheckoutDetails): Promise<string> {
    if (!(await knownStores(m, tenantId, [input.storeId])).has(input.storeId)) throw notFound(`no store ${input.storeId}`);
    const s = m.connection.driver.schema;
    const skus = input.lines.map((l) => l.sku);
    const known: { sku: string; title: string }[] = await m.query(
      `SELECT v.sku, v.title FROM "${s}"."variant_info" v WHERE v.tenant_id = $1 AND v.sku = ANY($2)`,
      [tenantId, skus],
    );
    const titleOf = new Map(known.map((p) => [p.sku, p.title]));
    const missing = skus.find((sku) => !titleOf.has(sku));
    if (missing) throw notFound(`no variant with sku ${missing}`);
    // The quote carries the prices: each sku's quoted unit price (after its discounts, before tax).
    const currencyCode = quote.currencyCode;
    const quotedUnit = new Map(quote.lines.map((l) => [l.sku, l.unitPrice]));
    // Menus: an item outside its availability windows in the store is not orderable now.
    await checkAvailability(m, tenantId, input.storeId, skus, new Date());
    // Menus: each line's modifiers, checked against its groups, add their prices to its unit.
    // A quoted order's modifiers are priced by the quote too (their skus are quote lines).
    const modifiers = await chosenModifiers(m, tenantId, input.storeId, input.lines, null, quotedUnit);
    const lines = input.lines.map((line, i) => ({
      ...line,
      amount: unitWithModifiers(quotedUnit.get(line.sku)!, modifiers[i]!, currencyCode),
      title: titleOf.get(line.sku)!,
      modifiers: modifiers[i]!,
    }));
    // A checkout's shipping is part of what the order charges.
    const total = sumMoney([{ amount: quote.total, quantity: 1 }, ...(checkout ? [{ amount: checkout.shipping.amount, quantity: 1 }] : [])], currencyCode);
    if (!fitsStoredAmount(total.amount)) {
      throw badInput(`the order total ${total.amount} ${currencyCode} is larger than an amount may be (${MAX_AMOUNT_WHOLE_DIGITS} digits before the point)`, 'lines');
    }

    const [{ last_number: number }] = (await m.query(
      `INSERT INTO "${s}"."order_counter" (tenant_id, last_number) VALUES ($1, 1)
       ON CONFLICT (tenant_id) DO UPDATE SET last_number = order_counter.last_number + 1 RETURNING last_number`,
      [tenantId],
    )) as [{ last_number: number }];
    const { id, workflowVersion } = placement;
    await m.getRepository(OrderEntity).insert({
      id, tenantId, number, storeId: input.storeId, status: 'PLACED', totalAmount: total.amount, currencyCode, quoteId: quote.id, quote,
      workflowVersion, version: 1,
      ...(checkout
        ? { customerId: checkout.customerId, email: checkout.email, shippingAddress: checkout.shippingAddress as Record<string, string | null> | null, shipping: checkout.shipping, cartId: checkout.cartId }
        : {}),
    });
    await m.getRepository(OrderLineEntity).insert(
      lines.map((line, i) => ({
        orderId: id, lineNo: i + 1, tenantId, sku: line.sku, quantity: line.quantity,
        unitAmount: line.amount, currencyCode, title: line.title, modifiers: line.modifiers,
      })),
    );
    await emit(m, tenantId, 'orders.order.placed', {
      id,
      number,
      storeId: input.storeId,
      lines: lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPrice: formatMoney(l.amount, currencyCode) })),
      total,
    });
    await this.transitions.started(m, await m.getRepository(OrderEntity).findOneByOrFail({ tenantId, id }));
    return id;
  }

  ordersByIds(ctx: SubgraphContext, ids: readonly string[]): Promise<(OrderEntity | null)[]> {
    return this.tx(ctx, async (m, tenantId) => {
      const valid = ids.filter(isUuid);
      const rows = valid.length ? await m.getRepository(OrderEntity).findBy({ tenantId, id: In(valid) }) : [];
      return alignByKey(ids, rows, (o) => o.id);
    });
  }

  linesByOrderIds(ctx: SubgraphContext, orderIds: readonly string[]): Promise<OrderLineEntity[][]> {
    return this.tx(ctx, async (m, tenantId) => {
      const rows = await m
        .getRepository(OrderLineEntity)
        .find({ where: { tenantId, orderId: In([...orderIds]) }, order: { lineNo: 'ASC' } });
      return groupByKey(orderIds, rows, (l) => l.orderId);
    });
  }

  /** A customer's orders, newest first: the caller's own only (row-level security narrows a customer's reads). */
  customerOrders(ctx: SubgraphContext, customerId: string, args: { first?: number | null; after?: string | null }): Promise<Connection<OrderEntity>> {
    const limit = pageSize(args.first);
    const after = decodeCursor(args.after);
    if (after !== undefined && !/^\d+$/.test(after)) throw badInput('after is not a valid cursor', 'after');
    return this.tx(ctx, async (m, tenantId) => {
      if (!isUuid(customerId)) return toConnection([], limit, (o: OrderEntity) => o.seq);
      const qb = m.getRepository(OrderEntity).createQueryBuilder('o')
        .where('o.tenant_id = :tenantId AND o.customer_id = :customerId', { tenantId, customerId })
        .orderBy('o.seq', 'DESC').limit(limit + 1);
      if (after !== undefined) qb.andWhere('o.seq < :after', { after });
      return toConnection(await qb.getMany(), limit, (o) => o.seq);
    });
  }

  orders(
    ctx: SubgraphContext,
    args: { storeId?: string | null; first?: number | null; after?: string | null },
  ): Promise<Connection<OrderEntity>> {
    const limit = pageSize(args.first);
    const after = decodeCursor(args.after);
    if (after !== undefined && !/^\d+$/.test(after)) throw badInput('after is not a valid cursor', 'after');
    return this.tx(ctx, async (m, tenantId) => {
      if (args.storeId && !isUuid(args.storeId)) return toConnection([], limit, (o: OrderEntity) => o.seq);
      const qb = m
        .getRepository(OrderEntity)
        .createQueryBuilder('o')
        .where('o.tenant_id = :tenantId', { tenantId })
        .orderBy('o.seq', 'DESC')
        .limit(limit + 1);
      if (args.storeId) qb.andWhere('o.store_id = :storeId', { storeId: args.storeId });
      if (after !== undefined) qb.andWhere('o.seq < :after', { after });
      return toConnection(await qb.getMany(), limit, (o) => o.seq);
    });
  }
}
