import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kind, parse } from 'graphql';
import { addProduct, bearer, cartQuoted, createShop, quoted, receiveStock, setPrice, CREATE_API_KEY, RECEIVE_STOCK, type Shop } from '../support/fixtures.js';
import { DEFAULT_OUTBOUND_WEBHOOKS } from '../../subgraphs/tenant/src/webhooks/config.js';
import { liveClient, subscribe } from '../support/live-client.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

// Global object identification (decision 0026): every cached object has an `id` that
// `node(id:)` answers again, in the caller's tenant only.
const IDS = `query ($sku: ID!, $store: ID!) {
  variant(sku: $sku) { id sku product { id category { id } } stock(storeId: $store) { id available } }
  price(sku: $sku, storeId: $store) { id amount { amount } }
}`;

const NODE_FIELDS = `__typename id
  ... on Product { title }
  ... on Category { name }
  ... on Store { code }
  ... on Order { number }
  ... on Variant { sku }
  ... on StockLevel { sku storeId available }
  ... on Price { sku amount { amount } }
  ... on OrderLine { sku quantity }
  ... on Cart { cartEmail: email lines { id sku quantity } }
  ... on CartLine { sku quantity }
  ... on Customer { email }
  ... on PriceList { name }
  ... on Promotion { name }
  ... on Reservation { sku quantity reservationStatus: status }
  ... on Transfer { sku quantity transferStatus: status }
  ... on WebhookSubscription { url }
  ... on FeatureFlag { key }
  ... on Shipment { carrier trackingNumber }
  ... on OrderReturn { returnStatus: status reason }
  ... on Payment { provider paymentState: state }
  ... on PaymentRefund { reason amount { amount } }`;
const NODE = `query ($id: ID!) { node(id: $id) { ${NODE_FIELDS} } }`;
const NODES = `query ($ids: [ID!]!) { nodes(ids: $ids) { ${NODE_FIELDS} } }`;

/** Every object type of the composed schema that implements `Node`: each needs a case below. */
const SCHEMA_NODE_TYPES = parse(readFileSync(join(__dirname, '..', '..', 'schema', 'supergraph.graphql'), 'utf8'))
  .definitions.flatMap((d) => (d.kind === Kind.OBJECT_TYPE_DEFINITION && d.interfaces?.some((i) => i.name.value === 'Node') ? [d.name.value] : []))
  .sort();

const CART_LINES = 'id email lines { id sku quantity }';
const codes = (result: { errors?: { extensions?: Record<string, unknown> }[] }) => (result.errors ?? []).map((e) => e.extensions?.code);
const CREATE_CART = `mutation ($s: ID!) { createCart(input: { storeId: $s }) { ${CART_LINES} } }`;
const ADD_LINES = `mutation ($c: ID!, $l: [CartLineInput!]!) { addCartLines(cartId: $c, lines: $l) { ${CART_LINES} } }`;
const REGISTER = 'mutation ($i: RegisterCustomerInput!) { registerCustomer(input: $i) { accessToken customer { id email } } }';

describe('global object identification', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let other: Shop;
  let ids: { product: string; category: string; variant: string; stock: string; price: string; order: string };
  let orderLineId: string;
  let cart: { id: string; lines: { id: string }[] };
  let customer: { token: string; id: string; cartId: string };
  let priceListId: string;
  let promotionId: string;
  let reservationId: string;
  let transferId: string;
  let subscriptionId: string;
  let flagId: string;
  let customerPaymentId: string;
  let cyToken: string;
  let orderSide: { orderId: string; shipment: string; orderReturn: string; payment: string; refund: string };

  beforeAll(async () => {
    // Loopback webhook targets allowed: the subscription below is only read, never delivered to.
    system = await startSupergraph({ subgraphOptions: { webhooks: { ...DEFAULT_OUTBOUND_WEBHOOKS, policy: { requireHttps: false, allowedCidrs: ['127.0.0.0/8'] } } } });
    [shop, other] = [await createShop(system), await createShop(system)];
    const { createCategory } = await system.ok('mutation { createCategory(input: { name: "Coffee" }) { id } }', {}, shop.headers);
    await addProduct(system, shop, 'Espresso Beans', ['ESP-1'], { categoryId: createCategory.id });
    await addProduct(system, shop, 'Secret Blend', ['SEC-1'], { published: false });
    await setPrice(system, shop, 'ESP-1', '12.5');
    await receiveStock(system, shop, 'ESP-1', 7);
    // An order of another sku, so that its reservation leaves ESP-1's figures alone.
    await addProduct(system, shop, 'Green Tea', ['TEA-1']);
    await setPrice(system, shop, 'TEA-1', '3');
    const { placeOrder } = await eventually(async () => system.ok('mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { id lines { id } } }', {
      input: await quoted(system, { storeId: shop.storeId, lines: [{ sku: 'TEA-1', quantity: 1 }] }, shop.headers),
    }, shop.headers));
    const { variant, price } = await system.ok(IDS, { sku: 'ESP-1', store: shop.storeId }, shop.headers);
    ids = { product: variant.product.id, category: variant.product.category.id, variant: variant.id, stock: variant.stock.id, price: price.id, order: placeOrder.id };
    orderLineId = placeOrder.lines[0].id;
    // An anonymous cart (its id is the capability) and a customer's cart (that customer's only).
    const { createCart } = await system.ok(CREATE_CART, { s: shop.storeId }, shop.storefrontHeaders);
    cart = (await eventually(() => system.ok(ADD_LINES, { c: createCart.id, l: [{ sku: 'TEA-1', quantity: 2 }] }, shop.storefrontHeaders))).addCartLines;
    const { registerCustomer } = await system.ok(REGISTER, { i: { email: 'ann@example.com', password: 'correct horse 1', name: 'Ann' } }, shop.storefrontHeaders);
    const own = await system.ok(CREATE_CART, { s: shop.storeId }, bearer(registerCustomer.accessToken));
    customer = { token: registerCustomer.accessToken, id: registerCustomer.customer.id, cartId: own.createCart.id };
    priceListId = (await system.ok('mutation { createPriceList(input: { name: "VIP", currencyCode: "EUR", customerGroup: "vip" }) { id } }', {}, shop.headers)).createPriceList.id;
    await receiveStock(system, shop, 'TEA-1', 5);
    reservationId = (await system.ok('mutation ($s: ID!) { reserveStock(input: { sku: "TEA-1", storeId: $s, quantity: 1 }) { id } }', { s: shop.storeId }, shop.headers)).reserveStock.id;
    transferId = (await system.ok('mutation ($s: ID!, $to: ID!) { transferStock(input: { sku: "TEA-1", fromStoreId: $s, toStoreId: $to, quantity: 1 }) { id } }', { s: shop.storeId, to: shop.stores[1]!.id }, shop.headers)).transferStock.id;
    // No event of this type happens here: nothing is delivered to the closed port.
    subscriptionId = (await system.ok('mutation { createWebhookSubscription(input: { url: "http://127.0.0.1:9/hooks", eventTypes: ["orders.return.received"] }) { subscription { id } } }', {}, shop.headers))
      .createWebhookSubscription.subscription.id;
    flagId = (await system.ok('mutation { setFeatureFlag(input: { key: "new-checkout", enabled: true }) { id } }', {}, shop.headers)).setFeatureFlag.id;
    // An order paid at the till (MANUAL), shipped, a unit sent back, partly refunded: its shipment,
    // return, payment and refund (as test/e2e/payments.test.ts makes them).
    await system.ok('mutation ($i: CreateShippingMethodInput!) { createShippingMethod(input: $i) { id } }', { i: { storeId: shop.storeId, currencyCode: 'EUR', name: 'Flat', kind: 'FLAT', amount: '4.00' } }, shop.headers);
    const till = (await system.ok(CREATE_CART, { s: shop.storeId }, shop.storefrontHeaders)).createCart.id;
    await eventually(() => system.ok(ADD_LINES, { c: till, l: [{ sku: 'TEA-1', quantity: 1 }] }, shop.storefrontHeaders));
    await system.ok('mutation ($c: ID!) { setCartEmail(cartId: $c, email: "till@example.com") { id } }', { c: till }, shop.storefrontHeaders);
    await system.ok('mutation ($c: ID!, $a: AddressInput!) { setShippingAddress(cartId: $c, address: $a) { id } }', { c: till, a: { name: 'Pat', line1: '3 Hill Rd', city: 'Munich', postalCode: '80331', countryCode: 'DE' } }, shop.storefrontHeaders);
    const methods = (await system.ok('query ($c: ID!) { availableShippingMethods(cartId: $c) { id name } }', { c: till }, shop.storefrontHeaders)).availableShippingMethods;
    await system.ok('mutation ($c: ID!, $m: ID!) { setShippingMethod(cartId: $c, shippingMethodId: $m) { id } }', { c: till, m: methods.find((m: { name: string }) => m.name === 'Flat').id }, shop.storefrontHeaders);
    const { checkout } = await system.ok('mutation ($i: CheckoutInput!) { checkout(input: $i) { id } }', { i: await cartQuoted(system, { cartId: till, paymentMethod: { provider: 'MANUAL' }, idempotencyKey: 'node-till-1' }, shop.storefrontHeaders) }, shop.storefrontHeaders);
    await system.ok('mutation ($id: ID!) { payOrder(id: $id) { id } }', { id: checkout.id }, shop.posHeaders);
    const shipment = (await system.ok('mutation ($id: ID!) { createShipment(input: { orderId: $id, lines: [{ sku: "TEA-1", quantity: 1 }], carrier: "DHL", trackingNumber: "N1" }) { id } }', { id: checkout.id }, shop.posHeaders)).createShipment.id;
    const orderReturn = (await system.ok('mutation ($id: ID!) { requestReturn(input: { orderId: $id, lines: [{ sku: "TEA-1", quantity: 1 }], reason: "too strong" }) { id } }', { id: checkout.id }, shop.posHeaders)).requestReturn.id;
    const { refundOrder } = await system.ok('mutation ($id: ID!) { refundOrder(input: { orderId: $id, amount: "1.00", reason: "goodwill" }) { payments { id refunds { id } } } }', { id: checkout.id }, shop.posHeaders);
    orderSide = { orderId: checkout.id, shipment, orderReturn, payment: refundOrder.payments[0].id, refund: refundOrder.payments[0].refunds[0].id };
    // A customer's own order, paid at the till: she reads its payment, no one else does.
    const cy = (await system.ok(REGISTER, { i: { email: 'cy@example.com', password: 'correct horse 3', name: 'Cy' } }, shop.storefrontHeaders)).registerCustomer.accessToken;
    const cyCart = (await system.ok(CREATE_CART, { s: shop.storeId }, bearer(cy))).createCart.id;
    await eventually(() => system.ok(ADD_LINES, { c: cyCart, l: [{ sku: 'TEA-1', quantity: 1 }] }, bearer(cy)));
    await system.ok('mutation ($c: ID!) { setCartEmail(cartId: $c, email: "cy@example.com") { id } }', { c: cyCart }, bearer(cy));
    await system.ok('mutation ($c: ID!, $a: AddressInput!) { setShippingAddress(cartId: $c, address: $a) { id } }', { c: cyCart, a: { name: 'Cy', line1: '1 Main St', city: 'Berlin', postalCode: '10115', countryCode: 'DE' } }, bearer(cy));
    await system.ok('mutation ($c: ID!, $m: ID!) { setShippingMethod(cartId: $c, shippingMethodId: $m) { id } }', { c: cyCart, m: methods.find((m: { name: string }) => m.name === 'Flat').id }, bearer(cy));
    const cyOrder = (await system.ok('mutation ($i: CheckoutInput!) { checkout(input: $i) { payments { id } } }', { i: await cartQuoted(system, { cartId: cyCart, paymentMethod: { provider: 'MANUAL' }, idempotencyKey: 'node-cy-1' }, bearer(cy)) }, bearer(cy))).checkout;
    cyToken = cy;
    customerPaymentId = cyOrder.payments[0].id;
    promotionId = (await system.ok('mutation { createPromotion(input: { name: "Ten", kind: PERCENT_OFF, value: "10", couponCode: "TEN" }) { id } }', {}, shop.headers)).createPromotion.id;
  });
  afterAll(() => system.stop());

  it('answers every Node type by its id, alone and in nodes(ids:), in the caller\'s tenant', async () => {
    const expected = [
      { __typename: 'Product', id: ids.product, title: 'Espresso Beans' },
      { __typename: 'Category', id: ids.category, name: 'Coffee' },
      { __typename: 'Store', id: shop.storeId, code: 'S1' },
      { __typename: 'Order', id: ids.order, number: 1 },
      { __typename: 'Variant', id: ids.variant, sku: 'ESP-1' },
      { __typename: 'StockLevel', id: ids.stock, sku: 'ESP-1', storeId: shop.storeId, available: 7 },
      { __typename: 'Price', id: ids.price, sku: 'ESP-1', amount: { amount: '12.50' } },
    ];
    // Opaque and readable only as decision 0026 says: base64url of the type and its key.
    expect(Buffer.from(ids.stock, 'base64url').toString()).toBe(`StockLevel:${shop.storeId}:ESP-1`);
    for (const node of expected) expect((await system.ok(NODE, { id: node.id }, shop.headers)).node).toEqual(node);
    const { nodes } = await system.ok(NODES, { ids: [...expected.map((n) => n.id), Buffer.from('Variant:NOPE').toString('base64url')] }, shop.headers);
    expect(nodes).toEqual([...expected, null]);

    // Stock levels in one batch: a store where nothing moved is zero; a sku the tenant lacks, null.
    const level = (storeId: string, sku: string) => Buffer.from(`StockLevel:${storeId}:${sku}`).toString('base64url');
    const levels = await system.ok('query ($ids: [ID!]!) { nodes(ids: $ids) { ... on StockLevel { storeId available } } }', {
      ids: [ids.stock, level(shop.stores[1]!.id, 'ESP-1'), level(shop.storeId, 'NOPE-1')],
    }, shop.headers);
    expect(levels.nodes).toEqual([{ storeId: shop.storeId, available: 7 }, { storeId: shop.stores[1]!.id, available: 0 }, null]);

    // Another tenant's ids find nothing there; a draft's ids nothing for the storefront.
    expect((await system.ok(NODES, { ids: expected.map((n) => n.id) }, other.headers)).nodes).toEqual(expected.map(() => null));
    const draft = await system.ok('query { variant(sku: "SEC-1") { id product { id } } }', {}, shop.headers);
    const hidden = await system.ok(NODES, { ids: [draft.variant.id, draft.variant.product.id, ids.order] }, shop.storefrontHeaders);
    expect(hidden.nodes).toEqual([null, null, null]);

    // A partner's contract holds a Price's id only (not its amount), and no Order: node stays within its schema.
    const { createApiKey } = await system.ok(CREATE_API_KEY, { input: { name: 'partner', role: 'PARTNER' } }, shop.headers);
    const partner = await system.request('query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }', { ids: [ids.variant, ids.price, ids.order] }, bearer(createApiKey.key));
    expect(partner).toEqual({ data: { nodes: [{ __typename: 'Variant', id: ids.variant }, { __typename: 'Price', id: ids.price }, null] } });
  });

  it('answers every Node type of the composed schema by its id, in nodes(ids:) mixed and in order', async () => {
    const cartLine = { __typename: 'CartLine', id: cart.lines[0]!.id, sku: 'TEA-1', quantity: 2 };
    const expected: Record<string, Record<string, unknown>> = {
      Product: { __typename: 'Product', id: ids.product, title: 'Espresso Beans' },
      Category: { __typename: 'Category', id: ids.category, name: 'Coffee' },
      Store: { __typename: 'Store', id: shop.storeId, code: 'S1' },
      Order: { __typename: 'Order', id: ids.order, number: 1 },
      OrderLine: { __typename: 'OrderLine', id: orderLineId, sku: 'TEA-1', quantity: 1 },
      Variant: { __typename: 'Variant', id: ids.variant, sku: 'ESP-1' },
      StockLevel: { __typename: 'StockLevel', id: ids.stock, sku: 'ESP-1', storeId: shop.storeId, available: expect.any(Number) },
      Price: { __typename: 'Price', id: ids.price, sku: 'ESP-1', amount: { amount: expect.any(String) } },
      Cart: { __typename: 'Cart', id: cart.id, cartEmail: null, lines: [{ id: cartLine.id, sku: 'TEA-1', quantity: 2 }] },
      CartLine: cartLine,
      Customer: { __typename: 'Customer', id: customer.id, email: 'ann@example.com' },
      PriceList: { __typename: 'PriceList', id: priceListId, name: 'VIP' },
      Promotion: { __typename: 'Promotion', id: promotionId, name: 'Ten' },
      Reservation: { __typename: 'Reservation', id: reservationId, sku: 'TEA-1', quantity: 1, reservationStatus: 'ACTIVE' },
      Transfer: { __typename: 'Transfer', id: transferId, sku: 'TEA-1', quantity: 1, transferStatus: 'SHIPPED' },
      WebhookSubscription: { __typename: 'WebhookSubscription', id: subscriptionId, url: 'http://127.0.0.1:9/hooks' },
      FeatureFlag: { __typename: 'FeatureFlag', id: flagId, key: 'new-checkout' },
      Shipment: { __typename: 'Shipment', id: orderSide.shipment, carrier: 'DHL', trackingNumber: 'N1' },
      OrderReturn: { __typename: 'OrderReturn', id: orderSide.orderReturn, returnStatus: 'REQUESTED', reason: 'too strong' },
      Payment: { __typename: 'Payment', id: orderSide.payment, provider: 'MANUAL', paymentState: 'CAPTURED' },
      PaymentRefund: { __typename: 'PaymentRefund', id: orderSide.refund, reason: 'goodwill', amount: { amount: '1.00' } },
    };
    // A Node type added to the schema without a case here fails this line.
    expect(Object.keys(expected).sort()).toEqual(SCHEMA_NODE_TYPES);
    for (const node of Object.values(expected)) expect((await system.ok(NODE, { id: node.id }, shop.headers)).node).toEqual(node);
    // Mixed and reversed: each answer in its id's place.
    const mixed = Object.values(expected).reverse();
    expect((await system.ok(NODES, { ids: mixed.map((n) => n.id) }, shop.headers)).nodes).toEqual(mixed);
    // Ids are unique across types.
    expect(new Set(mixed.map((n) => n.id)).size).toBe(mixed.length);
  });

  it('keeps carts to their holder, customers to themselves and staff objects to staff', async () => {
    const asAnn = bearer(customer.token);
    const ownCart = { __typename: 'Cart', id: customer.cartId, cartEmail: null, lines: [] };
    const annNode = { __typename: 'Customer', id: customer.id, email: 'ann@example.com' };
    // Ann reads her cart and herself. A cart answers node(id:) exactly as cart(id:) answers it (its
    // id is the capability; a customer's cart is hidden from other customers), a Customer only itself.
    expect((await system.ok(NODES, { ids: [customer.cartId, customer.id, cart.id] }, asAnn)).nodes).toEqual([ownCart, annNode, expect.objectContaining({ id: cart.id })]);
    const asCart = async (id: string, headers: Record<string, string>) => {
      const { cart: found } = await system.ok(`query ($id: ID!) { cart(id: $id) { id cartEmail: email lines { id sku quantity } } }`, { id }, headers);
      return found && { __typename: 'Cart', ...found };
    };
    const { nodes: seenByStorefront } = await system.ok(NODES, { ids: [customer.cartId, customer.id, cart.id, cart.lines[0]!.id] }, shop.storefrontHeaders);
    expect(seenByStorefront).toEqual([await asCart(customer.cartId, shop.storefrontHeaders), null, await asCart(cart.id, shop.storefrontHeaders), expect.objectContaining({ id: cart.lines[0]!.id })]);
    // Staff objects stay with staff: a storefront and a customer get null, never an error.
    const staffOnly = [priceListId, promotionId, orderLineId, reservationId, transferId, subscriptionId, flagId, orderSide.shipment, orderSide.orderReturn, orderSide.payment, orderSide.refund];
    for (const headers of [shop.storefrontHeaders, asAnn]) expect((await system.ok(NODES, { ids: staffOnly }, headers)).nodes).toEqual(staffOnly.map(() => null));
    // Another customer of the tenant sees neither Ann nor her cart.
    const { registerCustomer: bob } = await system.ok(REGISTER, { i: { email: 'bob@example.com', password: 'correct horse 2', name: 'Bob' } }, shop.storefrontHeaders);
    expect(await asCart(customer.cartId, bearer(bob.accessToken))).toBeNull();
    expect((await system.ok(NODES, { ids: [customer.cartId, customer.id, bob.customer.id] }, bearer(bob.accessToken))).nodes).toEqual([null, null, { __typename: 'Customer', id: bob.customer.id, email: 'bob@example.com' }]);
    // Another tenant, even its admin, finds nothing; a partner gets none of these types.
    const all = [cart.id, cart.lines[0]!.id, customer.id, customer.cartId, priceListId, promotionId, orderLineId, reservationId, transferId, subscriptionId, flagId, orderSide.shipment, orderSide.orderReturn, orderSide.payment, orderSide.refund];
    // An order's shipment, return, payment and refund are read as the order: a pos key reads them.
    const orderSideIds = [orderSide.shipment, orderSide.orderReturn, orderSide.payment, orderSide.refund];
    expect((await system.ok(NODES, { ids: orderSideIds }, shop.posHeaders)).nodes).toEqual(orderSideIds.map((id) => expect.objectContaining({ id })));
    // The customer who placed an order reads its payment; another customer and the storefront do not.
    const cyPayment = { __typename: 'Payment', id: customerPaymentId, provider: 'MANUAL', paymentState: 'PENDING' };
    expect((await system.ok(NODES, { ids: [customerPaymentId, orderSide.payment] }, bearer(cyToken))).nodes).toEqual([cyPayment, null]);
    expect((await system.ok(NODES, { ids: [customerPaymentId] }, asAnn)).nodes).toEqual([null]);
    expect((await system.ok(NODES, { ids: [customerPaymentId] }, shop.storefrontHeaders)).nodes).toEqual([null]);
    // A pos key reads reservations and transfers, not what only admins read.
    expect((await system.ok(NODES, { ids: [reservationId, subscriptionId, flagId, priceListId] }, shop.posHeaders)).nodes).toEqual([expect.objectContaining({ id: reservationId }), null, null, null]);
    expect((await system.ok(NODES, { ids: all }, other.headers)).nodes).toEqual(all.map(() => null));
    const { createApiKey } = await system.ok(CREATE_API_KEY, { input: { name: 'partner 2', role: 'PARTNER' } }, shop.headers);
    expect(await system.request('query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }', { ids: all }, bearer(createApiKey.key))).toEqual({ data: { nodes: all.map(() => null) } });
  });

  it('returns the cart, price list and customer a mutation changed under the ids a cache holds, and takes those ids as arguments', async () => {
    const { updateCartLines } = await system.ok(`mutation ($c: ID!) { updateCartLines(cartId: $c, lines: [{ sku: "TEA-1", quantity: 5 }]) { ${CART_LINES} } }`, { c: cart.id }, shop.storefrontHeaders);
    expect(updateCartLines).toEqual({ id: cart.id, email: null, lines: [{ id: cart.lines[0]!.id, sku: 'TEA-1', quantity: 5 }] });
    expect((await system.ok(NODE, { id: cart.lines[0]!.id }, shop.storefrontHeaders)).node.quantity).toBe(5);
    const { setPriceListPrices } = await system.ok('mutation ($l: ID!) { setPriceListPrices(input: { priceListId: $l, prices: [{ sku: "ESP-1", amount: "9.00" }] }) { id prices { sku } } }', { l: priceListId }, shop.headers);
    expect(setPriceListPrices).toEqual({ id: priceListId, prices: [{ sku: 'ESP-1' }] });
    expect((await system.ok('query ($l: ID!) { priceList(id: $l) { id name } }', { l: priceListId }, shop.headers)).priceList).toEqual({ id: priceListId, name: 'VIP' });
    const { addCustomerAddress } = await system.ok('mutation ($a: AddressInput!) { addCustomerAddress(input: $a) { id addresses { city } } }', {
      a: { name: 'Ann', line1: '1 Main St', city: 'Berlin', postalCode: '10115', countryCode: 'DE' },
    }, bearer(customer.token));
    expect(addCustomerAddress).toEqual({ id: customer.id, addresses: [{ city: 'Berlin' }] });
    // A transfer received and a reservation released answer under their ids, which the mutations take.
    expect((await system.ok('mutation ($id: ID!) { receiveTransfer(id: $id) { id status } }', { id: transferId }, shop.headers)).receiveTransfer).toEqual({ id: transferId, status: 'RECEIVED' });
    expect((await system.ok('mutation ($id: ID!) { releaseReservation(id: $id) { id status } }', { id: reservationId }, shop.headers)).releaseReservation).toEqual({ id: reservationId, status: 'RELEASED' });
    // A return answers under its id, which receiveReturn / cancelReturn take, as they take the UUID it had.
    const rawReturn = Buffer.from(orderSide.orderReturn, 'base64url').toString().split(':')[2]!;
    expect(Buffer.from(orderSide.orderReturn, 'base64url').toString()).toBe(`OrderReturn:${orderSide.orderId}:${rawReturn}`);
    expect((await system.ok('mutation ($id: ID!) { cancelReturn(input: { returnId: $id, reason: "kept it" }) { id status } }', { id: rawReturn }, shop.headers)).cancelReturn).toEqual({ id: orderSide.orderReturn, status: 'CANCELLED' });
    expect(codes(await system.request('mutation ($id: ID!) { cancelReturn(input: { returnId: $id }) { id } }', { id: orderSide.orderReturn }, shop.headers))).toEqual(['INVALID_TRANSITION']);
    const { deleteWebhookSubscription } = await system.ok('mutation ($id: ID!) { deleteWebhookSubscription(id: $id) { id } }', { id: subscriptionId }, shop.headers);
    expect(deleteWebhookSubscription).toEqual({ id: subscriptionId });
    expect((await system.ok(NODE, { id: subscriptionId }, shop.headers)).node).toBeNull();
    // A Customer id is opaque: base64url of its type and UUID (decision 0026); the UUID alone is not a Node id.
    expect(Buffer.from(customer.id, 'base64url').toString()).toMatch(/^Customer:[0-9a-f-]{36}$/);
  });

  it('returns what a stock or price mutation changed under the ids a cache holds', async () => {
    const { receiveStock: level } = await system.ok(RECEIVE_STOCK.replace('{ sku', '{ id sku'), { input: { sku: 'ESP-1', storeId: shop.storeId, quantity: 3 } }, shop.headers);
    expect(level).toMatchObject({ id: ids.stock, available: 10 });
    const { setPrice: price } = await system.ok(
      'mutation ($input: SetPriceInput!, $store: ID!) { setPrice(input: $input) { id amount { amount } variant { id price(storeId: $store) { amount } } } }',
      { input: { sku: 'ESP-1', storeId: shop.storeId, amount: '13', currencyCode: 'EUR' }, store: shop.storeId },
      shop.headers,
    );
    // The price a storefront shows lives on the variant: the answer carries it under the variant's id.
    expect(price).toEqual({ id: ids.price, amount: { amount: '13.00' }, variant: { id: ids.variant, price: { amount: '13.00' } } });
    expect((await system.ok(NODE, { id: ids.stock }, shop.headers)).node.available).toBe(10);
    const { reserveStock } = await system.ok(
      'mutation ($input: ReserveStockInput!) { reserveStock(input: $input) { id stockLevel { id available reserved } } }',
      { input: { sku: 'ESP-1', storeId: shop.storeId, quantity: 2 } },
      shop.headers,
    );
    expect(reserveStock.stockLevel).toEqual({ id: ids.stock, available: 8, reserved: 2 });
    const { releaseReservation } = await system.ok('mutation ($id: ID!) { releaseReservation(id: $id) { stockLevel { id available } } }', { id: reserveStock.id }, shop.headers);
    expect(releaseReservation.stockLevel).toEqual({ id: ids.stock, available: 10 });
    const { transferStock } = await system.ok(
      'mutation ($input: TransferStockInput!) { transferStock(input: $input) { fromStockLevel { id available } toStockLevel { id inTransit } } }',
      { input: { sku: 'ESP-1', fromStoreId: shop.storeId, toStoreId: shop.stores[1]!.id, quantity: 1 } },
      shop.headers,
    );
    expect(transferStock).toEqual({
      fromStockLevel: { id: ids.stock, available: 9 },
      toStockLevel: { id: Buffer.from(`StockLevel:${shop.stores[1]!.id}:ESP-1`).toString('base64url'), inTransit: 1 },
    });

    // A live stock level arrives under the same id: a cache updates the object it holds.
    const client = liveClient(system.gatewayUrl, shop.headers);
    const live = subscribe(client, 'subscription ($store: ID!) { stockChanged(storeId: $store, skus: ["ESP-1"]) { id available } }', { store: shop.storeId });
    await live.waitFor(1);
    await system.ok(RECEIVE_STOCK, { input: { sku: 'ESP-1', storeId: shop.storeId, quantity: 1 } }, shop.headers);
    expect((await live.waitFor(2)).map((r) => r.data.stockChanged)).toEqual([{ id: ids.stock, available: 9 }, { id: ids.stock, available: 10 }]);
    live.stop();
    await client.dispose();
  });

  it('refuses what is not an id of this API with BAD_USER_INPUT, and more than 100 ids', async () => {
    for (const id of ['nope', Buffer.from('Cart:x').toString('base64url'), Buffer.from('StockLevel:only-one').toString('base64url'), 'a'.repeat(300)]) {
      const { data, errors } = await system.request(NODE, { id }, shop.headers);
      expect(data?.node ?? null).toBeNull();
      expect(errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    }
    const tooMany = await system.request(NODES, { ids: Array.from({ length: 101 }, () => ids.variant) }, shop.headers);
    expect(tooMany.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  });
});
