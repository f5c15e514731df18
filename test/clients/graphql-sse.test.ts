import { createClient, type Client, type ExecutionResult } from 'graphql-sse';
import { addProduct, createShop, receiveStock, type Shop } from '../support/fixtures.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

/**
 * graphql-sse's client, configured with the URL and a key only, in both of its modes (issue 24):
 * distinct connections (one request per operation, Yoga's own SSE) and single connection (a PUT
 * reserves a stream, a GET opens it, each operation is a POST with the token, a DELETE stops it).
 */
const STOCK = 'subscription ($store: ID!, $skus: [ID!]) { stockChanged(storeId: $store, skus: $skus) { sku onHand } }';
const VARIANT = 'query ($sku: ID!) { variant(sku: $sku) { id sku } }';

/** Subscribes and resolves with the first update past `onHand` (the current state may come first), then stops the subscription. */
function updatePast(client: Client, variables: Record<string, unknown>, onHand: number): Promise<ExecutionResult> {
  return new Promise<ExecutionResult>((resolve, reject) => {
    const stop = client.subscribe(
      { query: STOCK, variables },
      {
        next: (result) => {
          if (((result.data as { stockChanged?: { onHand: number } } | undefined)?.stockChanged?.onHand ?? -1) <= onHand) return;
          stop();
          resolve(result as ExecutionResult);
        },
        error: reject,
        complete: () => {},
      },
    );
  });
}

describe('graphql-sse against the gateway', () => {
  let system: TestSupergraph;
  let shop: Shop;

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    await addProduct(system, shop, 'Sourdough', ['SSE-1', 'SSE-2']);
    await receiveStock(system, shop, 'SSE-1', 1);
  }, 120_000);
  afterAll(async () => {
    await system?.stop();
  });

  for (const singleConnection of [false, true]) {
    it(`delivers a subscription's updates and a query's answer (${singleConnection ? 'single connection' : 'distinct connections'} mode)`, async () => {
      // A copy: the client writes the reservation token into the headers object it is given.
      const client = createClient({ url: system.gatewayUrl, headers: { ...shop.headers }, singleConnection, retryAttempts: 0 });
      try {
        const query = await new Promise<ExecutionResult>((resolve, reject) => {
          let result: ExecutionResult | undefined;
          client.subscribe({ query: VARIANT, variables: { sku: 'SSE-2' } }, { next: (r) => (result = r as ExecutionResult), error: reject, complete: () => resolve(result!) });
        });
        expect(query).toEqual({ data: { variant: { id: expect.any(String), sku: 'SSE-2' } } });

        const sku = singleConnection ? 'SSE-1' : 'SSE-2';
        let received = false;
        const update = updatePast(client, { store: shop.storeId, skus: [sku] }, singleConnection ? 1 : 0).finally(() => (received = true));
        // Nothing says when the stream is live but an update: write until one arrives.
        let written = 0;
        while (!received && written < 20) {
          await receiveStock(system, shop, sku, 1);
          written++;
          await Promise.race([update, new Promise((resolve) => setTimeout(resolve, 300))]);
        }
        const result = (await update) as { data: { stockChanged: { sku: string; onHand: number } } };
        expect(result.data).toEqual({ stockChanged: { sku, onHand: expect.any(Number) } });
      } finally {
        client.dispose();
      }
    }, 30_000);
  }

  it('keeps a reservation to the credential that made it, and answers request problems to the POST', async () => {
    const url = system.gatewayUrl;
    const token = await (await fetch(url, { method: 'PUT', headers: shop.headers })).text();
    const stream = await fetch(url, { headers: { ...shop.headers, accept: 'text/event-stream', 'x-graphql-event-stream-token': token } });
    expect(stream.status).toBe(200);
    try {
      // Another credential (here: the anonymous storefront) cannot post to it, nor open it again.
      const stranger = await fetch(url, { method: 'POST', headers: { ...shop.storefrontHeaders, 'content-type': 'application/json', 'x-graphql-event-stream-token': token }, body: JSON.stringify({ query: '{ __typename }', extensions: { operationId: 'a' } }) });
      expect(stranger.status).toBe(404);
      expect((await fetch(url, { headers: { ...shop.headers, accept: 'text/event-stream', 'x-graphql-event-stream-token': token } })).status).toBe(409);
      // No operation id, or one past its bound: refused, nothing run.
      const post = (body: unknown) => fetch(url, { method: 'POST', headers: { ...shop.headers, 'content-type': 'application/json', 'x-graphql-event-stream-token': token }, body: JSON.stringify(body) });
      const missing = await post({ query: '{ __typename }' });
      expect([missing.status, ((await missing.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code]).toEqual([400, 'BAD_USER_INPUT']);
      expect((await post({ query: '{ __typename }', extensions: { operationId: 'x'.repeat(129) } })).status).toBe(400);
      // A mutation over GET-less POST still passes the gateway's CSRF check: a form's content type is refused there, and the refusal is the POST's answer.
      const form = await fetch(url, { method: 'POST', headers: { ...shop.headers, 'content-type': 'text/plain', 'x-graphql-event-stream-token': token }, body: JSON.stringify({ query: '{ __typename }', extensions: { operationId: 'b' } }) });
      expect(form.status).toBe(403);
    } finally {
      await stream.body?.cancel();
    }
    // Closing the stream ends the reservation.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await fetch(url, { headers: { ...shop.headers, accept: 'text/event-stream', 'x-graphql-event-stream-token': token } })).status).toBe(404);
  });
});
