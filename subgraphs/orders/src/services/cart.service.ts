import { randomBytes, randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { once } from '../../../../lib/db/idempotency.js';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { appError, badInput, notFound } from '../../../../lib/errors.js';
import { checkAddress, type Address } from '../../../../lib/graphql/address.js';
import { knownStores } from '../../../../lib/events/read-model.js';
import { isUuid } from '../../../../lib/graphql/context.js';
import { MAX_LIST_ITEMS, MAX_QUANTITY } from '../../../../lib/input-bounds.js';
import { requireRole } from '../../../../lib/graphql/roles.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { parseMoney, type Money } from '../../../../lib/money.js';
import { OrderEntity } from '../data/entities/order.entity.js';
import { chosenModifiers } from './modifiers.js';
import { fromMinor, toMinor } from './money-minor.js';
import { quantitiesPerSku, type OrdersService } from './orders.service.js';
import { customerCartHidden } from './cart-access.js';

export type ShippingKind = 'FLAT' | 'SUBTOTAL_BANDS' | 'FREE_OVER' | 'PICKUP';
const KINDS: readonly ShippingKind[] = ['FLAT', 'SUBTOTAL_BANDS', 'FREE_OVER', 'PICKUP'];
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Most lines (a sku with its modifiers) in one cart. */
export const MAX_CART_LINES = 100;
/** Most coupon codes on one cart (as many as one quote takes). */
export const MAX_CART_COUPONS = 10;
/** A coupon code as pricing accepts one (docs/limits.md), before normalising. */
const COUPON = /^[A-Za-z0-9_-]{1,64}$/;

export interface ShippingMethodView {
  id: string;
  name: string;
  kind: ShippingKind;
  price: Money;
  freeOver: Money | null;
  bands: { upTo: string | null; amount: string }[];
}

export interface CartLineModifierView {
  sku: string;
  name: string | null;
  unitPrice: Money | null;
}

/** A line the shopper asks for: a sku, how many, and its modifiers (none when omitted). */
export interface CartLineRequest {
  sku: string;
  quantity: number;
  modifiers?: readonly string[] | null;
}

export interface CartLineView {
  /** The cart's id: with the sku, the line's `Node` id. */
  cartId: string;
  sku: string;
  quantity: number;
  modifiers: CartLineModifierView[];
  title: string | null;
  unitPrice: Money | null;
  total: Money | null;
}

export interface CartView {
  id: string;
  storeId: string;
  customerId: string | null;
  email: string | null;
  shippingAddress: Address | null;
  shippingMethod: ShippingMethodView | null;
  lines: CartLineView[];
  subtotal: Money | null;
  shippingTotal: Money | null;
  total: Money | null;
  orderId: string | null;
  /** Applied with `applyCouponCode`, normalised (trimmed, upper case), in the order applied. */
  couponCodes: string[];
}

interface CartRow {
  id: string;
  store_id: string;
  customer_id: string | null;
  email: string | null;
  shipping_address: Address | null;
  shipping_method_id: string | null;
  order_id: string | null;
  coupon_codes: string[];
}

interface MethodRow {
  id: string;
  name: string;
  kind: ShippingKind;
  amount: string;
  currency_code: string;
  free_over: string | null;
  bands: { upTo: string | null; amount: string }[];
}

/** The checkout a cart becomes: what OrdersService needs beyond the lines. */
export interface CheckoutDetails {
  customerId: string | null;
  email: string;
  shippingAddress: Address | null;
  shipping: { methodId: string; name: string; kind: ShippingKind; amount: string };
  cartId: string;
}

/** Carts, shipping methods and checkout (issue 17). A cart's id is its capability. */
export class CartService extends TenantScopedService {
  constructor(
    dataSource: ConstructorParameters<typeof TenantScopedService>[0],
    afterCommit: () => Promise<void>,
    private readonly orders: OrdersService,
  ) {
    super(dataSource, afterCommit);
  }

  async createCart(ctx: SubgraphContext, input: { storeId: string }): Promise<CartView> {
    return this.tx(ctx, async (m, tenantId) => {
      if (!isUuid(input.storeId) || !(await knownStores(m, tenantId, [input.storeId])).has(input.storeId)) throw notFound(`no store ${input.storeId}`);
      const id = `cart_${randomBytes(24).toString('base64url')}`;
      await m.query(`INSERT INTO ${t(m, 'cart')} (id, tenant_id, store_id, customer_id) VALUES ($1, $2, $3, $4)`, [id, tenantId, input.storeId, ctx.customerId ?? null]);
      return this.view(m, tenantId, id);
    });
  }

  cart(ctx: SubgraphContext, id: string): Promise<CartView | null> {
    return this.tx(ctx, async (m, tenantId) => ((await this.row(ctx, m, tenantId, id)) ? this.view(m, tenantId, id) : null));
  }

  addLines(ctx: SubgraphContext, cartId: string, lines: CartLineRequest[]): Promise<CartView> {
    return this.change(ctx, cartId, async (m, tenantId, cart) => {
      const keyed = checkLines(lines);
      const skus = lines.map((l) => l.sku);
      const known: { sku: string }[] = await m.query(`SELECT sku FROM ${t(m, 'variant_info')} WHERE tenant_id = $1 AND sku = ANY($2)`, [tenantId, skus]);
      const missing = skus.find((sku) => !known.some((k) => k.sku === sku));
      if (missing) throw notFound(`no variant with sku ${missing}`);
      // Menus: checked against the item's groups as an order line is (MODIFIERS_INVALID), so a cart holds only what checkout can place.
      await chosenModifiers(m, tenantId, cart.store_id, keyed, null);
      await m.query(
        `INSERT INTO ${t(m, 'cart_line')} (cart_id, tenant_id, sku, quantity, modifiers)
         SELECT $1, $2, sku, quantity, ARRAY(SELECT jsonb_array_elements_text(modifiers)) FROM unnest($3::text[], $4::int[], $5::jsonb[]) AS l(sku, quantity, modifiers)
         ON CONFLICT (cart_id, sku, modifiers) DO UPDATE SET quantity = LEAST(cart_line.quantity + EXCLUDED.quantity, 1000000)`,
        [cart.id, tenantId, skus, lines.map((l) => l.quantity), keyed.map((l) => JSON.stringify(l.modifiers))],
      );
      const [{ count }] = (await m.query(`SELECT count(*)::int AS count FROM ${t(m, 'cart_line')} WHERE tenant_id = $1 AND cart_id = $2`, [tenantId, cart.id])) as [{ count: number }];
      if (count > MAX_CART_LINES) throw badInput(`a cart holds at most ${MAX_CART_LINES} lines`, 'lines');
    });
  }

  updateLines(ctx: SubgraphContext, cartId: string, lines: CartLineRequest[]): Promise<CartView> {
    return this.change(ctx, cartId, async (m, tenantId, cart) => {
      for (const line of checkLines(lines)) {
        const result = (await m.query(`UPDATE ${t(m, 'cart_line')} SET quantity = $4 WHERE tenant_id = $1 AND cart_id = $2 AND sku = $3 AND modifiers = $5::text[]`, [
          tenantId, cart.id, line.sku, line.quantity, line.modifiers,
        ])) as [unknown, number];
        if (result[1] === 0) throw notFound(`no line with sku ${line.sku}${line.modifiers.length ? ` and modifiers ${line.modifiers.join(', ')}` : ''} in the cart`);
      }
    });
  }

  removeLines(ctx: SubgraphContext, cartId: string, skus: string[]): Promise<CartView> {
    return this.change(ctx, cartId, async (m, tenantId, cart) => {
      await m.query(`DELETE FROM ${t(m, 'cart_line')} WHERE tenant_id = $1 AND cart_id = $2 AND sku = ANY($3)`, [tenantId, cart.id, skus]);
    });
  }

  /**
   * Keeps a coupon code on the cart (once; trimmed, upper case, as pricing reads codes). Whether it
   * applies is pricing's answer when the cart is read (`Cart.quote`: applied or rejected with a
   * reason), so an unknown code is kept too, and shown rejected.
   */
  applyCouponCode(ctx: SubgraphContext, cartId: string, code: string): Promise<CartView> {
    const clean = code.trim();
    if (!COUPON.test(clean)) throw badInput('a coupon code is 1 to 64 letters, digits, - or _', 'code');
    return this.change(ctx, cartId, async (m, tenantId, cart) => {
      const normal = clean.toUpperCase();
      if (cart.coupon_codes.includes(normal)) return;
      if (cart.coupon_codes.length >= MAX_CART_COUPONS) throw badInput(`a cart holds at most ${MAX_CART_COUPONS} coupon codes`, 'code');
      await m.query(`UPDATE ${t(m, 'cart')} SET coupon_codes = array_append(coupon_codes, $3) WHERE tenant_id = $1 AND id = $2`, [tenantId, cart.id, normal]);
    });
  }

  /** Takes a coupon code off the cart (however it is cased); NOT_FOUND when the cart does not hold it. */
  removeCouponCode(ctx: SubgraphContext, cartId: string, code: string): Promise<CartView> {
    const normal = code.trim().toUpperCase();
    return this.change(ctx, cartId, async (m, tenantId, cart) => {
      if (!cart.coupon_codes.includes(normal)) throw notFound(`the cart holds no coupon code ${normal}`);
      await m.query(`UPDATE ${t(m, 'cart')} SET coupon_codes = array_remove(coupon_codes, $3) WHERE tenant_id = $1 AND id = $2`, [tenantId, cart.id, normal]);
    });
  }

  setEmail(ctx: SubgraphContext, cartId: string, email: string): Promise<CartView> {
    const clean = email.trim().toLowerCase();
    if (!EMAIL.test(clean)) throw badInput('email must be an email address', 'email');
    return this.change(ctx, cartId, (m, tenantId, cart) => m.query(`UPDATE ${t(m, 'cart')} SET email = $3 WHERE tenant_id = $1 AND id = $2`, [tenantId, cart.id, clean]));
  }

  setShippingAddress(ctx: SubgraphContext, cartId: string, address: Address): Promise<CartView> {
    const clean = checkAddress(address);
    return this.change(ctx, cartId, (m, tenantId, cart) =>
      m.query(`UPDATE ${t(m, 'cart')} SET shipping_address = $3 WHERE tenant_id = $1 AND id = $2`, [tenantId, cart.id, JSON.stringify(clean)]));
  }

  setShippingMethod(ctx: SubgraphContext, cartId: string, methodId: string): Promise<CartView> {
    return this.change(ctx, cartId, async (m, tenantId, cart) => {
      const method = isUuid(methodId) ? (await this.methods(m, tenantId, cart.store_id)).find((x) => x.id === methodId) : undefined;
      if (!method) throw notFound(`no shipping method ${methodId} in the cart's store`);
      await m.query(`UPDATE ${t(m, 'cart')} SET shipping_method_id = $3 WHERE tenant_id = $1 AND id = $2`, [tenantId, cart.id, method.id]);
    });
  }

  availableShippingMethods(ctx: SubgraphContext, cartId: string): Promise<ShippingMethodView[]> {
    return this.tx(ctx, async (m, tenantId) => {
      const cart = await this.row(ctx, m, tenantId, cartId);
      if (!cart) throw notFound(`no cart ${cartId}`);
      const view = await this.view(m, tenantId, cart.id);
      return (await this.methods(m, tenantId, cart.store_id)).map((method) => methodView(method, view.subtotal));
    });
  }

  async createShippingMethod(
    ctx: SubgraphContext,
    input: { storeId: string; name: string; kind: ShippingKind; amount?: string | null; currencyCode: string; freeOver?: string | null; bands?: { upTo?: string | null; amount: string }[] | null },
  ): Promise<ShippingMethodView> {
    requireRole(ctx, 'admin');
    if (!KINDS.includes(input.kind)) throw badInput(`kind must be one of ${KINDS.join(', ')}`, 'kind');
    if (!input.name.trim()) throw badInput('name must not be empty', 'name');
    const currency = parseMoney('0', input.currencyCode).currencyCode;
    const amount = input.kind === 'PICKUP' ? '0' : input.kind === 'SUBTOTAL_BANDS' ? '0' : parseMoney(input.amount ?? '', currency).amount;
    const freeOver = input.kind === 'FREE_OVER' ? parseMoney(input.freeOver ?? '', currency).amount : null;
    const bands = input.kind === 'SUBTOTAL_BANDS' ? checkBands(input.bands ?? [], currency) : [];
    return this.tx(ctx, async (m, tenantId) => {
      if (!isUuid(input.storeId) || !(await knownStores(m, tenantId, [input.storeId])).has(input.storeId)) throw notFound(`no store ${input.storeId}`);
      const id = randomUUID();
      await m.query(
        `INSERT INTO ${t(m, 'shipping_method')} (id, tenant_id, store_id, name, kind, amount, currency_code, free_over, bands) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [id, tenantId, input.storeId, input.name.trim(), input.kind, amount, currency, freeOver, JSON.stringify(bands)],
      );
      const [method] = (await this.methods(m, tenantId, input.storeId)).filter((x) => x.id === id);
      return methodView(method!, null);
    });
  }

  /**
   * `mergeCart`, after a customer signs in: the anonymous cart's lines join the customer's open
   * cart in the same store (quantities add up; its email, address and method fill what the
   * customer's cart lacks) and the anonymous cart is gone; with no such cart, the anonymous cart
   * becomes the customer's. The same call again, or on a cart already the customer's, answers it.
   */
  mergeCart(ctx: SubgraphContext, cartId: string): Promise<CartView> {
    const customerId = ctx.customerId;
    if (!customerId) throw appError('FORBIDDEN', 'only a signed-in customer merges a cart into its own');
    return this.tx(ctx, async (m, tenantId) => {
      // Row-level security: another customer's cart is not found.
      const anonymous = await this.row(ctx, m, tenantId, cartId, true);
      if (!anonymous) throw notFound(`no cart ${cartId}`);
      if (anonymous.customer_id === customerId) return this.view(m, tenantId, anonymous.id);
      if (anonymous.order_id) throw badInput('the cart was checked out; start a new one', 'cartId');
      const [own] = (await m.query(
        `SELECT id FROM ${t(m, 'cart')} WHERE tenant_id = $1 AND customer_id = $2 AND store_id = $3 AND order_id IS NULL ORDER BY updated_at DESC, id LIMIT 1 FOR UPDATE`,
        [tenantId, customerId, anonymous.store_id],
      )) as { id: string }[];
      if (!own) {
        await m.query(`UPDATE ${t(m, 'cart')} SET customer_id = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [tenantId, anonymous.id, customerId]);
        return this.view(m, tenantId, anonymous.id);
      }
      await m.query(
        `INSERT INTO ${t(m, 'cart_line')} (cart_id, tenant_id, sku, modifiers, quantity)
         SELECT $1, tenant_id, sku, modifiers, quantity FROM ${t(m, 'cart_line')} WHERE tenant_id = $2 AND cart_id = $3
         ON CONFLICT (cart_id, sku, modifiers) DO UPDATE SET quantity = LEAST(cart_line.quantity + EXCLUDED.quantity, 1000000)`,
        [own.id, tenantId, anonymous.id],
      );
      const [{ count }] = (await m.query(`SELECT count(*)::int AS count FROM ${t(m, 'cart_line')} WHERE tenant_id = $1 AND cart_id = $2`, [tenantId, own.id])) as [{ count: number }];
      if (count > MAX_CART_LINES) throw badInput(`a cart holds at most ${MAX_CART_LINES} skus; the merged cart would hold ${count}`, 'cartId');
      await m.query(
        `UPDATE ${t(m, 'cart')} SET email = coalesce(email, $3), shipping_address = coalesce(shipping_address, $4), shipping_method_id = coalesce(shipping_method_id, $5),
                coupon_codes = coupon_codes || ARRAY(SELECT c FROM unnest($6::text[]) AS c WHERE c <> ALL(coupon_codes)), updated_at = now()
          WHERE tenant_id = $1 AND id = $2`,
        [tenantId, own.id, anonymous.email, anonymous.shipping_address ? JSON.stringify(anonymous.shipping_address) : null, anonymous.shipping_method_id, anonymous.coupon_codes],
      );
      await m.query(`DELETE FROM ${t(m, 'cart')} WHERE tenant_id = $1 AND id = $2`, [tenantId, anonymous.id]);
      return this.view(m, tenantId, own.id);
    });
  }

  /**
   * The cart as an order, in one transaction with the idempotency key (the same key answers the
   * same order); then the order saga reserves its stock. Returns the order's id.
   */
  async placeFromCart(ctx: SubgraphContext, input: { cartId: string; idempotencyKey: string; provider: string; quoteToken?: string | null }): Promise<{ orderId: string; replayed: boolean }> {
    if (!input.idempotencyKey.trim()) throw badInput('idempotencyKey must not be empty', 'idempotencyKey');
    // The workflow version is the tenant's flag for the cart's store, read outside the transaction
    // (a flag read may need the database; embedded PGlite has one session). A cart keeps its store.
    const storeId = await this.tx(ctx, async (m, tenantId) => (await this.row(ctx, m, tenantId, input.cartId))?.store_id);
    const placement = storeId ? await this.orders.placement(ctx, storeId) : undefined;
    const placed = await this.tx(ctx, async (m, tenantId) => {
      const { result, replayed } = await once(m, { tenantId, operation: 'checkout', key: input.idempotencyKey, payload: { cartId: input.cartId, provider: input.provider } }, async () => {
        const cart = await this.row(ctx, m, tenantId, input.cartId, true);
        if (!cart || !placement) throw notFound(`no cart ${input.cartId}`);
        if (cart.order_id) throw badInput('the cart was already checked out', 'cartId');
        const view = await this.view(m, tenantId, cart.id);
        if (view.lines.length === 0) throw badInput('the cart is empty', 'cartId');
        const method = view.shippingMethod;
        if (!method) throw badInput('choose a shipping method first (setShippingMethod)', 'cartId');
        if (method.kind !== 'PICKUP' && !view.shippingAddress) throw badInput('set a shipping address first (setShippingAddress)', 'cartId');
        if (!view.email) throw badInput('set an email first (setCartEmail)', 'cartId');
        const lines = view.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, modifiers: l.modifiers.map((x) => x.sku) }));
        // Every order is charged a quote of the pricing engine (decisions 0019, 0044): a cart too,
        // with or without coupon codes; orders never prices by itself and never calls pricing here.
        if (!input.quoteToken) {
          throw appError(
            'QUOTE_REQUIRED',
            cart.coupon_codes.length > 0
              ? 'checkout needs a quoteToken: the cart has coupon codes, so price it with claimQuote (its store, its lines and their modifiers per sku, its couponCodes) and pass its token'
              : 'checkout needs a quoteToken: pass the cart\'s `quote { token }` (or a claimQuote token when a limited promotion applies)',
            { couponCodes: cart.coupon_codes },
          );
        }
        // A pricing quote of exactly these lines (claimed when it applies a coupon or limited
        // promotion): the order charges its prices, discounts and tax.
        const quote = this.orders.chargeableQuote(ctx, { storeId: cart.store_id, lines, quoteToken: input.quoteToken });
        if (!sameCodes(quote.couponCodes ?? [], cart.coupon_codes)) {
          throw appError('QUOTE_INVALID', 'the quote was not asked with the cart\'s coupon codes: quote the cart with its couponCodes', { couponCodes: cart.coupon_codes });
        }
        if (method.price.currencyCode !== quote.currencyCode) throw badInput('the shipping method is priced in another currency than the cart\'s quote', 'cartId');
        const orderId = await this.orders.insertOrderIn(m, tenantId, { storeId: cart.store_id, lines }, quote, placement, {
          customerId: cart.customer_id,
          email: view.email,
          shippingAddress: method.kind === 'PICKUP' ? null : view.shippingAddress,
          shipping: { methodId: method.id, name: method.name, kind: method.kind, amount: method.price.amount },
          cartId: cart.id,
        });
        await m.query(`UPDATE ${t(m, 'cart')} SET order_id = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [tenantId, cart.id, orderId]);
        return orderId;
      });
      return { orderId: result, replayed };
    }).catch((error: unknown) => {
      // Two checkouts racing for one quote: the unique index lets one through.
      if ((error as { code?: string }).code === '23505' && String((error as { constraint?: string }).constraint) === 'order_quote') {
        throw appError('QUOTE_INVALID', 'this quote was already charged by another order');
      }
      throw error;
    });
    if (!placed.replayed) await this.afterCommit();
    return placed;
  }

  /** A checkout the saga refused: the cart opens again, so the shopper can change it and retry. */
  reopen(ctx: SubgraphContext, cartId: string, orderId: string): Promise<void> {
    return this.tx(ctx, async (m, tenantId) => {
      await m.query(`UPDATE ${t(m, 'cart')} SET order_id = NULL, updated_at = now() WHERE tenant_id = $1 AND id = $2 AND order_id = $3`, [tenantId, cartId, orderId]);
    });
  }

  /**
   * The order's status once the saga has answered (or PLACED still after `timeoutMs`). It looks
   * again when the saga's answer is applied in this process (`sagaAnswered`), else on a timer
   * that backs off from 20 to 250 ms: a fixed 20 ms poll made 20 waiting checkouts 1,000
   * transactions a second, competing for the pool and the event loop with the consumer that
   * applies the very answer they wait for.
   */
  async settled(ctx: SubgraphContext, orderId: string, timeoutMs = 10_000): Promise<OrderEntity> {
    const deadline = Date.now() + timeoutMs;
    let pause = 20;
    for (;;) {
      const order = await this.tx(ctx, (m, tenantId) => m.getRepository(OrderEntity).findOneByOrFail({ tenantId, id: orderId }));
      if (order.status !== 'PLACED' || Date.now() > deadline) return order;
      await this.sagaAnswer(orderId, Math.min(pause, Math.max(1, deadline - Date.now())));
      pause = Math.min(250, Math.round(pause * 1.5));
    }
  }

  /** Resolves when the saga answers for the order in this process (a moment later, once committed) or after `ms`. */
  private sagaAnswer(orderId: string, ms: number): Promise<void> {
    const signal = this.orders.sagaAnswered;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.off(orderId, answered);
        resolve();
      };
      const answered = () => setTimeout(done, 5);
      const timer = setTimeout(done, ms);
      signal.on(orderId, answered);
    });
  }

  /** Changes an open cart the caller may see, then answers with it. */
  private change(ctx: SubgraphContext, cartId: string, work: (m: EntityManager, tenantId: string, cart: CartRow) => Promise<unknown>): Promise<CartView> {
    return this.tx(ctx, async (m, tenantId) => {
      const cart = await this.row(ctx, m, tenantId, cartId, true);
      if (!cart) throw notFound(`no cart ${cartId}`);
      if (cart.order_id) throw badInput('the cart was checked out; start a new one', 'cartId');
      await work(m, tenantId, cart);
      await m.query(`UPDATE ${t(m, 'cart')} SET updated_at = now() WHERE tenant_id = $1 AND id = $2`, [tenantId, cart.id]);
      return this.view(m, tenantId, cart.id);
    });
  }

  /** The cart `id` as `ctx` may see it: row-level security hides other customers' carts; a customer's cart is hidden from callers who are not staff (`customerCartHidden`). */
  private async row(ctx: SubgraphContext, m: EntityManager, tenantId: string, id: string, lock = false): Promise<CartRow | undefined> {
    if (!/^cart_[\w-]{32}$/.test(id)) return undefined;
    const rows: CartRow[] = await m.query(
      `SELECT id, store_id, customer_id, email, shipping_address, shipping_method_id, order_id, coupon_codes FROM ${t(m, 'cart')} WHERE tenant_id = $1 AND id = $2${lock ? ' FOR UPDATE' : ''}`,
      [tenantId, id],
    );
    return rows[0] && !customerCartHidden(ctx, rows[0].customer_id) ? rows[0] : undefined;
  }

  private methods(m: EntityManager, tenantId: string, storeId: string): Promise<MethodRow[]> {
    return m.query(
      `SELECT id, name, kind, amount::text, trim(currency_code) AS currency_code, free_over::text, bands FROM ${t(m, 'shipping_method')} WHERE tenant_id = $1 AND store_id = $2 ORDER BY created_at, id`,
      [tenantId, storeId],
    );
  }

  /** The cart priced now: the store's prices as pricing announced them, and its shipping. */
  private async view(m: EntityManager, tenantId: string, id: string): Promise<CartView> {
    const cart = (await this.row(SYSTEM_VIEW, m, tenantId, id))!;
    type PricedModifier = { sku: string; name: string | null; amount: string | null; currency_code: string | null };
    const lines: { sku: string; quantity: number; title: string | null; amount: string | null; currency_code: string | null; modifiers: PricedModifier[] }[] = await m.query(
      `SELECT l.sku, l.quantity, v.title, p.amount::text, trim(p.currency_code) AS currency_code,
              (SELECT coalesce(jsonb_agg(jsonb_build_object('sku', x.sku, 'name', (
                         SELECT mo->>'name' FROM ${t(m, 'modifier_group_info')} g, jsonb_array_elements(g.groups) gr, jsonb_array_elements(gr->'modifiers') mo
                          WHERE g.tenant_id = l.tenant_id AND g.sku = l.sku AND mo->>'sku' = x.sku LIMIT 1),
                       'amount', mp.amount::text, 'currency_code', trim(mp.currency_code)) ORDER BY x.sku), '[]'::jsonb)
                 FROM unnest(l.modifiers) AS x(sku)
                 LEFT JOIN ${t(m, 'price_info')} mp ON mp.tenant_id = l.tenant_id AND mp.sku = x.sku AND mp.store_id = $3) AS modifiers
         FROM ${t(m, 'cart_line')} l
         LEFT JOIN ${t(m, 'variant_info')} v ON v.tenant_id = l.tenant_id AND v.sku = l.sku
         LEFT JOIN ${t(m, 'price_info')} p ON p.tenant_id = l.tenant_id AND p.sku = l.sku AND p.store_id = $3
        WHERE l.tenant_id = $1 AND l.cart_id = $2 ORDER BY l.added_at, l.sku, l.modifiers`,
      [tenantId, id, cart.store_id],
    );
    const currency = lines.find((l) => l.currency_code)?.currency_code ?? null;
    let subtotal: bigint | null = currency ? 0n : null;
    const priced = (amount: string | null, code: string | null) => (amount && code && code === currency ? toMinor(amount, currency) : null);
    const lineViews = lines.map((line) => {
      const modifiers = line.modifiers.map((x) => ({ sku: x.sku, name: x.name, unitPrice: priced(x.amount, x.currency_code) === null ? null : fromMinor(priced(x.amount, x.currency_code)!, currency!) }));
      const parts = [priced(line.amount, line.currency_code), ...line.modifiers.map((x) => priced(x.amount, x.currency_code))];
      if (parts.some((p) => p === null)) {
        subtotal = null;
        return { cartId: id, sku: line.sku, quantity: line.quantity, modifiers, title: line.title, unitPrice: null, total: null };
      }
      const unit = parts.reduce((a, b) => a! + b!, 0n)!;
      const lineTotal = unit * BigInt(line.quantity);
      if (subtotal !== null) subtotal += lineTotal;
      return { cartId: id, sku: line.sku, quantity: line.quantity, modifiers, title: line.title, unitPrice: fromMinor(unit, currency!), total: fromMinor(lineTotal, currency!) };
    });
    const subtotalMoney = subtotal !== null && currency ? fromMinor(subtotal, currency) : null;
    const methodRow = cart.shipping_method_id ? (await this.methods(m, tenantId, cart.store_id)).find((x) => x.id === cart.shipping_method_id) : undefined;
    const method = methodRow ? methodView(methodRow, subtotalMoney) : null;
    const shippingTotal = method?.price ?? null;
    const total = subtotalMoney && (!shippingTotal || shippingTotal.currencyCode === subtotalMoney.currencyCode)
      ? fromMinor(toMinor(subtotalMoney.amount, subtotalMoney.currencyCode) + (shippingTotal ? toMinor(shippingTotal.amount, shippingTotal.currencyCode) : 0n), subtotalMoney.currencyCode)
      : null;
    return {
      id: cart.id, storeId: cart.store_id, customerId: cart.customer_id, email: cart.email, shippingAddress: cart.shipping_address,
      shippingMethod: method, lines: lineViews, subtotal: subtotalMoney, shippingTotal, total, orderId: cart.order_id,
      couponCodes: cart.coupon_codes,
    };
  }
}

const t = (m: EntityManager, table: string) => `"${m.connection.driver.schema}"."${table}"`;

/** A method priced for a subtotal (null: its base amount). */
function methodView(row: MethodRow, subtotal: Money | null): ShippingMethodView {
  const currency = row.currency_code;
  const base = { id: row.id, name: row.name, kind: row.kind, freeOver: row.free_over ? fromMinor(toMinor(row.free_over, currency), currency) : null, bands: row.bands };
  const sub = subtotal && subtotal.currencyCode === currency ? toMinor(subtotal.amount, currency) : null;
  let price = toMinor(row.amount, currency);
  if (row.kind === 'PICKUP') price = 0n;
  if (row.kind === 'FREE_OVER' && sub !== null && row.free_over && sub >= toMinor(row.free_over, currency)) price = 0n;
  if (row.kind === 'SUBTOTAL_BANDS') {
    const band = row.bands.find((b) => b.upTo === null || (sub ?? 0n) < toMinor(b.upTo, currency)) ?? row.bands.at(-1);
    price = band ? toMinor(band.amount, currency) : 0n;
  }
  return { ...base, price: fromMinor(price, currency) };
}

function checkBands(bands: { upTo?: string | null; amount: string }[], currency: string): { upTo: string | null; amount: string }[] {
  if (bands.length === 0) throw badInput('SUBTOTAL_BANDS needs at least one band', 'bands');
  const clean = bands.map((b, i) => {
    if ((b.upTo === null || b.upTo === undefined) !== (i === bands.length - 1)) throw badInput('every band but the last has an upTo; the last has none', 'bands');
    return { upTo: b.upTo ? parseMoney(b.upTo, currency).amount : null, amount: parseMoney(b.amount, currency).amount };
  });
  for (let i = 1; i < clean.length - 1; i++) {
    if (toMinor(clean[i]!.upTo!, currency) <= toMinor(clean[i - 1]!.upTo!, currency)) throw badInput('band upTo amounts must ascend', 'bands');
  }
  return clean;
}

/** The lines with their modifiers in sku order (a line's key with its sku); each line once. */
function checkLines(lines: CartLineRequest[]): { sku: string; quantity: number; modifiers: string[] }[] {
  if (lines.length === 0) throw badInput('give at least one line', 'lines');
  const keyed = lines.map((l) => ({ sku: l.sku, quantity: l.quantity, modifiers: [...(l.modifiers ?? [])].sort() }));
  if (new Set(keyed.map((l) => JSON.stringify([l.sku, l.modifiers]))).size !== keyed.length) throw badInput('each sku with its modifiers may appear on one line only', 'lines');
  for (const line of keyed) {
    if (!Number.isInteger(line.quantity) || line.quantity <= 0) throw badInput(`quantity of ${line.sku} must be greater than zero`, 'lines.quantity');
  }
  return keyed;
}

/** The same codes, whatever their order (both normalised). */
function sameCodes(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a);
  return x.size === new Set(b).size && b.every((c) => x.has(c));
}

/** What pricing needs to quote a cart (its `Cart.quote` requires it): null when a quote cannot price it. */
export function cartQuoteRequest(cart: CartView): string | null {
  if (cart.lines.length === 0) return null;
  // The skus the order will charge, as checkout checks the quote: each line's sku and its
  // modifiers at the line's quantity, summed per sku (decision 0019). A cart whose sums exceed
  // what a `quote` input may hold has no quote, as a client could not ask for one either.
  const lines = [...quantitiesPerSku(cart.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, modifiers: l.modifiers.map((x) => x.sku) })))]
    .map(([sku, quantity]) => ({ sku, quantity }));
  if (lines.length > MAX_LIST_ITEMS || lines.some((l) => l.quantity > MAX_QUANTITY)) return null;
  return JSON.stringify({ storeId: cart.storeId, lines, couponCodes: cart.couponCodes });
}

/** The code a checkout the saga refused answers with. */
export const insufficientStock = (orderId: string) =>
  appError('INSUFFICIENT_STOCK', 'Not enough stock for every line of the cart; nothing was charged and the cart is open again.', { orderId });

/** `view` reads a cart its caller was already allowed (through `row`). */
const SYSTEM_VIEW: SubgraphContext = { tenantId: undefined, roles: ['gateway'], requestId: 'cart-view' };

