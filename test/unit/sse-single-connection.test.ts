import { createSchema, createYoga } from 'graphql-yoga';
import { createSseSingleConnection, type SseLimits } from '../../gateway/src/subscriptions/sse-single-connection.js';

/** A subscription that never yields. */
async function* never(): AsyncGenerator<{ ticks: number }> {
  await new Promise(() => {});
  yield { ticks: 0 };
}

/** The bounds of graphql-sse's single connection mode (docs/limits.md), over a real Yoga with a one-field schema. */
describe('graphql-sse single connection mode: bounds', () => {
  const build = (limits: Partial<SseLimits>) => {
    // eslint-disable-next-line prefer-const
    let yoga: ReturnType<typeof createYoga>;
    const sse = createSseSingleConnection(async (request, context) => yoga.fetch(request, context), { limits });
    yoga = createYoga({ schema: createSchema({ typeDefs: 'type Query { hello: String } type Subscription { ticks: Int }', resolvers: { Query: { hello: () => 'world' }, Subscription: { ticks: { subscribe: () => never() } } } }), plugins: [sse.plugin], logging: false });
    return { yoga, sse };
  };
  const put = (yoga: ReturnType<typeof createYoga>) => yoga.fetch('http://x/graphql', { method: 'PUT' });

  it('refuses a reservation past the gateway\'s bound with 503, and drops one never connected', async () => {
    const { yoga, sse } = build({ maxReservations: 2, connectTimeoutMs: 100 });
    try {
      expect([(await put(yoga)).status, (await put(yoga)).status]).toEqual([201, 201]);
      const third = await put(yoga);
      expect(third.status).toBe(503);
      expect(await third.json()).toMatchObject({ errors: [{ extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect(sse.stats().reservations).toBe(0);
      expect((await put(yoga)).status).toBe(201);
    } finally {
      sse.close();
    }
  });

  it('relays an operation\'s results with its id, and refuses one past the operations bound with 429', async () => {
    const { yoga, sse } = build({ maxOperationsPerStream: 1 });
    try {
      const token = await (await put(yoga)).text();
      const headers = { 'x-graphql-event-stream-token': token };
      const stream = await yoga.fetch('http://x/graphql', { headers: { ...headers, accept: 'text/event-stream' } });
      const reader = stream.body!.getReader();
      const post = async (operationId: string, query: string) =>
        (await yoga.fetch('http://x/graphql', { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ query, extensions: { operationId } }) })).status;
      expect(await post('one', '{ hello }')).toBe(202);
      let text = '';
      while (!text.includes('event: complete')) text += new TextDecoder().decode((await reader.read()).value);
      expect(text).toContain('event: next\ndata: {"id":"one","payload":{"data":{"hello":"world"}}}');
      expect(text).toContain('event: complete\ndata: {"id":"one"}');
      // The query finished; a subscription runs until stopped, and no second may join it.
      expect(await post('two', 'subscription { ticks }')).toBe(202);
      expect(await post('three', '{ hello }')).toBe(429);
      expect(sse.stats()).toEqual({ reservations: 1, streams: 1, operations: 1 });
      expect((await yoga.fetch('http://x/graphql?operationId=two', { method: 'DELETE', headers })).status).toBe(200);
      expect(sse.stats().operations).toBe(0);
      expect(await post('three', '{ hello }')).toBe(202);
      await reader.cancel();
      expect(sse.stats().reservations).toBe(0);
    } finally {
      sse.close();
    }
  });
});
