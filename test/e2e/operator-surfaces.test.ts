import { createShop, type Shop } from '../support/fixtures.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const OPERATOR_TOKEN = 'op_test-operator-token-0123456789';

/** The gateway's operator surfaces: Prometheus, the subscription debug view, GraphiQL in a browser. */
const SURFACES = [
  { name: 'metrics', path: '/metrics', accept: '*/*', expect: 'gateway_websockets_open' },
  { name: 'debug', path: '/debug/subscriptions', accept: 'application/json', expect: '"sockets":' },
  { name: 'GraphiQL', path: '/graphql', accept: 'text/html', expect: '<title>Commerce supergraph</title>' },
];

const get = async (base: string, path: string, headers: Record<string, string>) => {
  const response = await fetch(`${base}${path}`, { headers });
  return { status: response.status, body: await response.text(), authenticate: response.headers.get('www-authenticate') };
};

describe('in production, /metrics, /debug/* and GraphiQL are for the operator only', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let base: string;

  beforeAll(async () => {
    system = await startSupergraph({ production: true, operatorToken: OPERATOR_TOKEN });
    base = new URL(system.gatewayUrl).origin;
    shop = await createShop(system);
  });
  afterAll(() => system.stop());

  it('answers 401 without the operator token, and with any other credential', async () => {
    for (const { name, path, accept } of SURFACES) {
      for (const headers of [{}, { authorization: 'Bearer wrong-token' }, { authorization: `Bearer ${system.platformApiKey}` }, shop.headers] as Record<string, string>[]) {
        const answer = await get(base, path, { accept, ...headers });
        expect({ name, headers, status: answer.status, authenticate: answer.authenticate, body: JSON.parse(answer.body) }).toEqual({
          name,
          headers,
          status: 401,
          authenticate: 'Bearer realm="operator"',
          body: { error: { code: 'UNAUTHENTICATED', message: expect.stringContaining('OPERATOR_TOKEN') } },
        });
      }
    }
  });

  it('serves them with the operator token', async () => {
    for (const { name, path, accept, expect: content } of SURFACES) {
      const answer = await get(base, path, { accept, authorization: `Bearer ${OPERATOR_TOKEN}` });
      expect({ name, status: answer.status, served: answer.body.includes(content) }).toEqual({ name, status: 200, served: true });
    }
  });

  it('keeps the API, health and readiness public', async () => {
    expect((await system.ok('{ tenant { slug } }', {}, shop.storefrontHeaders)).tenant.slug).toBe(shop.slug);
    expect((await get(base, '/healthz', {})).status).toBe(200);
    expect((await get(base, '/readyz', {})).status).toBe(200);
  });

  it('probes each subgraph for /readyz through the one subgraph client, so the probes are timed', async () => {
    const counts = async () => {
      const text = (await get(base, '/metrics', { authorization: `Bearer ${OPERATOR_TOKEN}` })).body;
      const bySubgraph: Record<string, number> = {};
      for (const [, subgraph, value] of text.matchAll(/^gateway_subgraph_fetch_duration_seconds_count\{subgraph="(\w+)",outcome="ok"\} (\d+)$/gm)) {
        bySubgraph[subgraph!] = Number(value);
      }
      return bySubgraph;
    };
    const before = await counts();
    expect((await get(base, '/readyz', {})).status).toBe(200);
    const after = await counts();
    const subgraphs = Object.keys(system.subgraphUrls).sort();
    expect(subgraphs.length).toBeGreaterThan(0);
    expect(Object.fromEntries(subgraphs.map((name) => [name, (after[name] ?? 0) - (before[name] ?? 0)]))).toEqual(Object.fromEntries(subgraphs.map((name) => [name, 1])));
  });
});

describe('in production without an operator token, the operator surfaces are off', () => {
  let system: TestSupergraph;

  beforeAll(async () => {
    system = await startSupergraph({ production: true });
  });
  afterAll(() => system.stop());

  it('answers 404 for each of them, whatever the credential', async () => {
    const base = new URL(system.gatewayUrl).origin;
    for (const { name, path, accept } of SURFACES) {
      for (const headers of [{}, { authorization: `Bearer ${system.platformApiKey}` }] as Record<string, string>[]) {
        const answer = await get(base, path, { accept, ...headers });
        expect({ name, headers, status: answer.status }).toEqual({ name, headers, status: 404 });
      }
    }
  });
});
