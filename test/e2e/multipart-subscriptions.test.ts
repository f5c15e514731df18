import { addProduct, createShop, receiveStock, type Shop } from '../support/fixtures.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const STOCK = 'subscription ($store: ID!, $skus: [ID!]) { stockChanged(storeId: $store, skus: $skus) { sku onHand } }';
/** What Apollo Client's HttpLink sends for a subscription. */
const ACCEPT = 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json';

/** Reads the parts of Apollo's multipart subscription protocol off a response body, as they come. */
function multipartParts(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const parts: unknown[] = [];
  return {
    /** Reads until a part satisfies `found`; returns every part read so far. */
    async until(found: (part: any) => boolean): Promise<unknown[]> {
      for (;;) {
        // Each part is followed by the next boundary: everything before the last boundary is complete.
        const complete = buffer.split('\r\n--graphql');
        buffer = complete.pop()!;
        for (const raw of complete) {
          const cut = raw.indexOf('\r\n\r\n');
          if (cut >= 0) parts.push(JSON.parse(raw.slice(cut + 4)));
        }
        if (parts.some(found)) return parts;
        const { done, value } = await reader.read();
        if (done) throw new Error(`stream ended; parts: ${JSON.stringify(parts)}`);
        buffer += decoder.decode(value, { stream: true });
      }
    },
    cancel: () => reader.cancel(),
  };
}

describe('multipart HTTP subscriptions (Apollo Client HttpLink, Apollo Router protocol)', () => {
  let system: TestSupergraph;
  let shop: Shop;

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    await addProduct(system, shop, 'Rye', ['RYE-1']);
    await receiveStock(system, shop, 'RYE-1', 3);
  });
  afterAll(() => system.stop());

  it('streams a stock subscription as multipart parts: a heartbeat, then the change after a write', async () => {
    const response = await fetch(system.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: ACCEPT, ...shop.posHeaders },
      body: JSON.stringify({ query: STOCK, variables: { store: shop.storeId, skus: ['RYE-1'] } }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('multipart/mixed;boundary="graphql";subscriptionSpec="1.0"');
    const stream = multipartParts(response.body!);
    // The heartbeat comes at once: the subscription is open before the write.
    expect(await stream.until((part) => JSON.stringify(part) === '{}')).toContainEqual({});
    await receiveStock(system, shop, 'RYE-1', 4);
    const parts = await stream.until((part) => part?.payload?.data?.stockChanged?.onHand === 7);
    expect(parts).toContainEqual({ payload: expect.objectContaining({ data: { stockChanged: { sku: 'RYE-1', onHand: 7 } } }) });
    // Every part is a heartbeat or a payload.
    for (const part of parts) expect(JSON.stringify(part) === '{}' || Object.keys(part as object).join() === 'payload').toBe(true);
    await stream.cancel();
  });

  it('answers a refused subscription as JSON, not a stream', async () => {
    const response = await fetch(system.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: ACCEPT, ...shop.posHeaders },
      body: JSON.stringify({ query: 'subscription { stockChanged(storeId: "x") { noSuchField } }' }),
    });
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(((await response.json()) as { errors: unknown[] }).errors.length).toBeGreaterThan(0);
  });
});
