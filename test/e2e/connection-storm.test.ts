import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { CREATE_API_KEY, addProduct, bearer, createShop, receiveStock, type Shop } from '../support/fixtures.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const STOCK = 'subscription ($store: ID!) { stockChanged(storeId: $store) { sku onHand version } }';

// A POS fleet reconnecting after a network blip: every till at once. 2,000 on the real servers (CI's
// PostgreSQL + Redis pass), 200 on the embedded default.
const FLEET = process.env.REDIS_URL ? 2_000 : 200;
const KEYS = 20;

describe('a connection storm', () => {
  let system: TestSupergraph;
  let shop: Shop;

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    await addProduct(system, shop, 'Oat milk', ['OAT-1']);
    await receiveStock(system, shop, 'OAT-1', 5);
  });
  afterAll(() => system.stop());

  it(`subscribes ${FLEET} sockets connecting at once over ${KEYS} keys, and each gets the snapshot and the next change`, async () => {
    // Distinct keys: each is a tenant-directory lookup of its own, and every socket of a key shares it.
    const keys: string[] = [];
    for (let i = 0; i < KEYS; i += 1) {
      const { createApiKey } = await system.ok(CREATE_API_KEY, { input: { name: `till ${i}`, role: 'POS' } }, shop.headers);
      keys.push(createApiKey.key);
    }
    const closes: string[] = [];
    const clients: Client[] = [];
    const seen: number[][] = [];
    // Until every socket has seen `version`; any close fails it at once.
    const everyoneHas = (version: number) =>
      new Promise<void>((resolve, reject) => {
        const poll = setInterval(() => {
          if (closes.length > 0) reject(new Error(`${closes.length} closed, first: ${closes[0]}`));
          else if (seen.every((versions) => versions.includes(version))) resolve();
          else return;
          clearInterval(poll);
        }, 50);
      });
    for (let i = 0; i < FLEET; i += 1) {
      const versions: number[] = [];
      seen.push(versions);
      const client = createClient({
        url: system.gatewayUrl.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: bearer(keys[i % KEYS]!),
        retryAttempts: 0,
        on: { closed: (event) => void closes.push(`${(event as { code: number }).code} ${(event as { reason: string }).reason}`) },
      });
      client.subscribe<{ stockChanged: { version: number } }>(
        { query: STOCK, variables: { store: shop.storeId } },
        {
          // A payload without data (an error) fails the test naming it, rather than throwing in the client.
          next: (result) => void (result.data ? versions.push(result.data.stockChanged.version) : closes.push(`payload without data: ${JSON.stringify(result.errors)}`)),
          error: () => undefined,
          complete: () => undefined,
        },
      );
      clients.push(client);
    }
    // Every socket subscribed (its snapshot arrived), and none was refused meanwhile.
    await everyoneHas(1);
    await receiveStock(system, shop, 'OAT-1', 1);
    await everyoneHas(2);
    expect(seen.filter((versions) => versions.join() !== '1,2')).toEqual([]);
    expect(closes).toEqual([]);
    await Promise.all(clients.map((client) => client.dispose()));
  }, 180_000);

  it('answers "try again later" (1013), not 4403, while the tenant directory is unavailable, and a retrying client gets in', async () => {
    const { createApiKey } = await system.ok(CREATE_API_KEY, { input: { name: 'till after the outage', role: 'POS' } }, shop.headers);
    const port = Number(new URL(system.subgraphUrls.tenant).port);
    await system.subgraphs.tenant.stop();
    const closes: { code: number; reason: string }[] = [];
    let tenantBack: Promise<void> | undefined;
    const client = createClient({
      url: system.gatewayUrl.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: bearer(createApiKey.key),
      // As README recommends for tills: keep retrying what is retryable.
      retryAttempts: Infinity,
      retryWait: () => new Promise((resolve) => setTimeout(resolve, 200)),
      on: {
        closed: (event) => {
          closes.push({ code: (event as { code: number }).code, reason: (event as { reason: string }).reason });
          tenantBack ??= system.subgraphs.tenant.start(port).then(() => undefined);
        },
      },
    });
    const payload = await new Promise<{ sku: string }>((resolve, reject) =>
      client.subscribe<{ stockChanged: { sku: string } }>(
        { query: STOCK, variables: { store: shop.storeId } },
        { next: (result) => resolve(result.data!.stockChanged), error: reject, complete: () => undefined },
      ),
    );
    await tenantBack;
    expect(closes[0]).toEqual({ code: 1013, reason: 'Try again later: The tenant directory is unavailable; try again.' });
    expect(closes.every((close) => close.code !== 4403)).toBe(true);
    expect(payload).toEqual(expect.objectContaining({ sku: 'OAT-1' }));
    await client.dispose();
  }, 60_000);
});
