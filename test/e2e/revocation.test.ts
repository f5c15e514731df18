import { readFileSync } from 'node:fs';
import { SignJWT } from 'jose';
import { buildGateway } from '../../gateway/src/app.js';
import { createInMemoryBus } from '../../lib/events/in-memory-bus.js';
import { SUPERGRAPH_PATH } from '../../schema/compose-supergraph.js';
import { CREATE_API_KEY, addProduct, bearer, createShop, receiveStock, type Shop } from '../support/fixtures.js';
import { liveClient, subscribe } from '../support/live-client.js';
import { takeNextEvents } from '../support/sse.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const JWT_SECRET = 'test-jwt-secret-of-enough-length-0123456789';
const STOCK = 'subscription ($store: ID!) { stockChanged(storeId: $store) { sku available version } }';
const ADJUST = 'mutation ($input: AdjustStockInput!) { adjustStock(input: $input) { version } }';
const REVOKE = 'mutation ($id: ID!) { revokeApiKey(id: $id) { revokedAt } }';

/** A server-sent event stream of one subscription: its `next` payloads, and whether the server ended it. */
function sseStream(url: string, headers: Record<string, string>, query: string, variables: Record<string, unknown>) {
  const controller = new AbortController();
  const events: { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] }[] = [];
  const state = { ended: false };
  const done = (async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
      body: JSON.stringify({ query, variables }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done: finished } = await reader.read();
      if (finished) break;
      buffer = takeNextEvents(buffer + decoder.decode(value, { stream: true }), events);
    }
    state.ended = true;
  })().catch(() => undefined);
  return { events, state, done, abort: () => controller.abort() };
}

/** The close code and reason of a socket, or null when it is still open after `ms`. */
const closedWithin = async (closed: Promise<{ code: number; reason: string }>, ms: number) => {
  let timer: NodeJS.Timeout | undefined;
  const event = await Promise.race([closed, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)))]);
  clearTimeout(timer);
  return event && { code: event.code, reason: event.reason };
};

describe('credentials are checked where data flows: open sockets and streams', () => {
  let system: TestSupergraph;
  let shop: Shop;

  beforeAll(async () => {
    system = await startSupergraph({ jwt: { secret: JWT_SECRET } });
    shop = await createShop(system);
    await addProduct(system, shop, 'Rye', ['RYE-1']);
    await receiveStock(system, shop, 'RYE-1', 10);
  });
  afterAll(() => system.stop());

  it("closes a revoked key's graphql-ws sockets with 4403, ends its SSE streams, and sends it nothing more", async () => {
    const { createApiKey } = await system.ok(CREATE_API_KEY, { input: { name: 'till 9', role: 'POS' } }, shop.headers);
    const till = bearer(createApiKey.key);

    const socket = liveClient(system.gatewayUrl, till);
    const live = subscribe(socket, STOCK, { store: shop.storeId });
    const stream = sseStream(system.gatewayUrl, till, STOCK, { store: shop.storeId });
    // A witness with another key: the change after the revocation is pushed, only not to the revoked key.
    const admin = liveClient(system.gatewayUrl, shop.headers);
    const witness = subscribe(admin, STOCK, { store: shop.storeId });
    await live.waitFor(1);
    await witness.waitFor(1);
    await eventually(async () => expect(stream.events).toHaveLength(1));
    expect(stream.events[0]!.data.stockChanged).toEqual({ sku: 'RYE-1', available: 10, version: 1 });

    await system.ok(REVOKE, { id: createApiKey.apiKey.id }, shop.headers);
    // Within a few seconds at most (the issue asks for 1 s; speed is the benchmark's business, not this test's).
    const closed = await closedWithin(socket.closed, 3_000);
    expect(closed).toEqual({ code: 4403, reason: 'Forbidden: The API key was revoked.' });
    await eventually(async () => expect(stream.state.ended).toBe(true), 3_000);
    expect(stream.events.at(-1)).toEqual({ errors: [expect.objectContaining({ message: 'The API key was revoked.', extensions: { code: 'UNAUTHENTICATED' } })] });

    await system.ok(ADJUST, { input: { sku: 'RYE-1', storeId: shop.storeId, delta: -3 } }, shop.headers);
    await witness.waitFor(2);
    expect(witness.results[1]!.data.stockChanged).toEqual({ sku: 'RYE-1', available: 7, version: 2 });
    expect(live.results.map((r) => r.data.stockChanged.version)).toEqual([1]);
    expect(stream.events.filter((e) => e.data).map((e) => e.data.stockChanged.version)).toEqual([1]);

    // The key opens nothing new either.
    const again = liveClient(system.gatewayUrl, till);
    subscribe(again, STOCK, { store: shop.storeId });
    expect(await closedWithin(again.closed, 3_000)).toEqual({ code: 4403, reason: expect.stringContaining('Invalid or revoked API key') });
    await Promise.all([admin.dispose(), socket.dispose(), again.dispose()]);
  });

  it("closes a JWT's socket and ends its SSE stream when the token expires", async () => {
    const exp = Math.floor(Date.now() / 1000) + 3;
    const token = await new SignJWT({ tenant: shop.slug, roles: ['pos'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('picker-1')
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(JWT_SECRET));
    const socket = liveClient(system.gatewayUrl, bearer(token));
    const live = subscribe(socket, STOCK, { store: shop.storeId });
    const stream = sseStream(system.gatewayUrl, bearer(token), STOCK, { store: shop.storeId });
    await live.waitFor(1);
    await eventually(async () => expect(stream.events).toHaveLength(1));

    const closed = await closedWithin(socket.closed, 8_000);
    expect(closed).toEqual({ code: 4403, reason: 'Forbidden: The token expired.' });
    // Not before the token's exp.
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
    await eventually(async () => expect(stream.state.ended).toBe(true), 3_000);
    expect(stream.events.at(-1)).toEqual({ errors: [expect.objectContaining({ message: 'The token expired.', extensions: { code: 'UNAUTHENTICATED' } })] });
    expect(live.results).toHaveLength(1);
    await socket.dispose();
  });

  it('refuses new subscriptions on a socket whose key was revoked, even when the revocation event never reached its gateway', async () => {
    // A gateway cut off from the events (its own bus hears nothing): only the credential check on subscribe can catch it.
    const bus = createInMemoryBus(() => undefined);
    const deaf = await buildGateway({
      supergraphSdl: readFileSync(SUPERGRAPH_PATH, 'utf8'),
      subgraphUrls: system.subgraphUrls,
      auth: { subgraphSecret: system.subgraphSecret, platformApiKey: system.platformApiKey },
      subscriptions: { bus },
      log: () => {},
    });
    const url = `${await deaf.start(0)}/graphql`;
    try {
      const { createApiKey } = await system.ok(CREATE_API_KEY, { input: { name: 'till 10', role: 'POS' } }, shop.headers);
      const socket = liveClient(url, bearer(createApiKey.key));
      await subscribe(socket, STOCK, { store: shop.storeId }).waitFor(1);
      await system.ok(REVOKE, { id: createApiKey.apiKey.id }, shop.headers);
      // Until the deaf gateway's cached key expires (seconds), a new subscription may still open; then the socket closes.
      const closed = await eventually(async () => {
        subscribe(socket, STOCK, { store: shop.storeId });
        const event = await closedWithin(socket.closed, 250);
        if (!event) throw new Error('the socket still accepts subscriptions');
        return event;
      }, 15_000);
      expect(closed).toEqual({ code: 4403, reason: 'Forbidden: The API key was revoked.' });
      await socket.dispose();
    } finally {
      await deaf.stop();
      await bus.close();
    }
  });
});
