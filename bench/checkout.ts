/**
 * `npm run bench:checkout`: checkout latency through the gateway (issue 17) with 20 shoppers at
 * once. Each shopper fills a cart (two lines, email, address, shipping method, reading the cart's
 * `quote { token }` in the last step's answer, as a storefront shows it) and checks out with that
 * token and the MANUAL provider (decision 0044: every checkout charges a quote), several times;
 * only `checkout` is timed: it verifies the quote, places the order, waits
 * for the order saga to reserve the stock through the ledger, and answers. Prints p50, p95 and
 * p99 in milliseconds. Runs on the embedded defaults, or on DATABASE_URL / REDIS_URL.
 *
 * Options: --shoppers 20 --checkouts 5 (per shopper)
 */
import { graphqlRequest } from '../scripts/graphql-request.js';
import { benchTenant, startBenchSystem } from './bench-tenant.js';
import { benchArgs } from './args.js';

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function main() {
  const { values } = benchArgs({ options: { shoppers: { type: 'string', default: '20' }, checkouts: { type: 'string', default: '5' } } });
  const shoppers = Number(values.shoppers);
  const perShopper = Number(values.checkouts);
  const system = await startBenchSystem();
  try {
    const { ok, slug, storeId, admin } = await benchTenant(system);
    const skus = ['BENCH-1', 'BENCH-2'];
    await ok('mutation ($input: UpsertProductInput!) { upsertProduct(input: $input) { id } }', { input: { title: 'Bench', variants: skus.map((sku) => ({ sku, title: sku })) } }, admin);
    // Catalog's events reach pricing and inventory a moment later: retry until the skus are known.
    const retry = async (query: string, variables: Record<string, unknown>, headers: Record<string, string>) => {
      for (let i = 0; ; i++) {
        const result = await graphqlRequest(system.gatewayUrl, query, variables, headers);
        if (!result.errors) return result.data as any;
        if (i > 100) throw new Error(JSON.stringify(result.errors));
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    for (const sku of skus) {
      await retry('mutation ($input: SetPriceInput!) { setPrice(input: $input) { version } }', { input: { sku, storeId, amount: '3.50', currencyCode: 'EUR' } }, admin);
      await retry('mutation ($input: ReceiveStockInput!) { receiveStock(input: $input) { onHand } }', { input: { sku, storeId, quantity: 100_000 } }, admin);
    }
    const { createShippingMethod } = await ok('mutation ($i: CreateShippingMethodInput!) { createShippingMethod(input: $i) { id } }', { i: { storeId, name: 'Standard', kind: 'FLAT', amount: '4.95', currencyCode: 'EUR' } }, admin);
    const storefront = { 'x-tenant-id': slug };
    const lines = skus.map((sku, i) => ({ sku, quantity: 1 + i }));

    const fill = async () => {
      const { createCart } = await ok('mutation ($s: ID!) { createCart(input: { storeId: $s }) { id } }', { s: storeId }, storefront);
      const cartId: string = createCart.id;
      await retry('mutation ($c: ID!, $l: [CartLineInput!]!) { addCartLines(cartId: $c, lines: $l) { id } }', { c: cartId, l: lines }, storefront);
      await ok('mutation ($c: ID!) { setCartEmail(cartId: $c, email: "bench@example.com") { id } }', { c: cartId }, storefront);
      await ok('mutation ($c: ID!, $a: AddressInput!) { setShippingAddress(cartId: $c, address: $a) { id } }', { c: cartId, a: { name: 'B', line1: '1 Bench St', city: 'Berlin', postalCode: '10115', countryCode: 'DE' } }, storefront);
      const { setShippingMethod } = await ok('mutation ($c: ID!, $m: ID!) { setShippingMethod(cartId: $c, shippingMethodId: $m) { quote { token } } }', { c: cartId, m: createShippingMethod.id }, storefront);
      return { cartId, quoteToken: setShippingMethod.quote.token as string };
    };
    const CHECKOUT = 'mutation ($i: CheckoutInput!) { checkout(input: $i) { id status } }';
    // Warm-up: one checkout.
    await ok(CHECKOUT, { i: { ...(await fill()), paymentMethod: { provider: 'MANUAL' }, idempotencyKey: 'warmup' } }, storefront);

    const samples: number[] = [];
    // A checkout that fails (e.g. QUERY_TIMEOUT on a loaded machine) is counted by its code, not
    // timed, and the run goes on: the figures say how many did not make it.
    const failed = new Map<string, number>();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: shoppers }, async (_, shopper) => {
        for (let n = 0; n < perShopper; n++) {
          const cart = await fill();
          const t0 = performance.now();
          const result = await graphqlRequest(system.gatewayUrl, CHECKOUT, { i: { ...cart, paymentMethod: { provider: 'MANUAL' }, idempotencyKey: `s${shopper}-${n}` } }, storefront);
          const elapsed = performance.now() - t0;
          const code = result.errors ? String(result.errors[0]?.extensions?.code ?? 'ERROR') : null;
          if (code) {
            failed.set(code, (failed.get(code) ?? 0) + 1);
            continue;
          }
          const order = (result.data as { checkout: { status: string } }).checkout;
          // PLACED: the saga did not answer within checkout's 10 s wait (a loaded machine).
          if (order.status !== 'RESERVED') {
            failed.set(`answered ${order.status}`, (failed.get(`answered ${order.status}`) ?? 0) + 1);
            continue;
          }
          samples.push(elapsed);
        }
      }),
    );
    const wall = (performance.now() - started) / 1000;
    const s = [...samples].sort((a, b) => a - b);
    console.log(`checkout through the gateway, ${shoppers} concurrent shoppers, ${s.length} checkouts (${(s.length / wall).toFixed(1)}/s incl. filling carts)`);
    if (s.length) console.log(`  p50 ${pct(s, 50).toFixed(1)} ms  p95 ${pct(s, 95).toFixed(1)} ms  p99 ${pct(s, 99).toFixed(1)} ms  max ${s.at(-1)!.toFixed(1)} ms`);
    if (failed.size) console.log(`  failed: ${[...failed].map(([code, count]) => `${count} × ${code}`).join(', ')} (not in the percentiles)`);
  } finally {
    await system.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
