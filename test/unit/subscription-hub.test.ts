import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GraphQLDataSource } from '@apollo/gateway';
import { createInMemoryBus } from '../../lib/events/in-memory-bus.js';
import { eventReader } from '../../lib/events/upcasters.js';
import type { EventBus } from '../../lib/events/event-bus.js';
import type { Identity } from '../../gateway/src/auth/authenticator.js';
import { extractScopes } from '../../gateway/src/auth/scopes.js';
import { SubscriptionHub } from '../../gateway/src/subscriptions/subscription-hub.js';
import { SubscriptionPlanner } from '../../gateway/src/subscriptions/subscription-plan.js';
import { COMMERCE_SUBSCRIPTIONS } from '../../gateway/src/subscriptions/subscription-fields.js';

/**
 * The hub over the real composed supergraph, Apollo's planner and the in-process bus. Subgraphs
 * are the only stand-ins: the catalog answers the `Variant` entity fetch of the plan's `rest`, and
 * the snapshot query answers an empty store (so every payload here comes from an event).
 */
// As the gateway plans it: `@requiresScopes` taken out (checked by the gateway itself).
const SUPERGRAPH = extractScopes(readFileSync(join(__dirname, '..', '..', 'schema', 'supergraph.graphql'), 'utf8')).sdl;
const QUERY = 'subscription ($storeId: ID!) { stockChanged(storeId: $storeId, snapshot: false) { sku onHand variant { title } } }';
const TENANT = { id: '00000000-0000-4000-8000-000000000001', slug: 'shop' };
const pos = (subject: string): Identity => ({ tenant: TENANT, roles: ['pos'], kind: 'api-key', subject, apiKeyId: subject });

describe('subscription hub', () => {
  let bus: EventBus;
  let hub: SubscriptionHub;
  let catalogFetches = 0;
  let planner: SubscriptionPlanner;

  beforeAll(() => {
    const catalog: GraphQLDataSource = {
      process: async ({ request }) => {
        catalogFetches += 1;
        const representations = (request.variables?.representations ?? []) as { sku: string }[];
        return { data: { _entities: representations.map((r) => ({ __typename: 'Variant', title: `Title of ${r.sku}` })) } };
      },
    };
    const unused: GraphQLDataSource = { process: async () => ({ errors: [{ message: 'not expected in this test' }] }) };
    planner = new SubscriptionPlanner(SUPERGRAPH, { catalog, inventory: unused, pricing: unused, orders: unused, tenant: unused });
  });

  beforeEach(async () => {
    catalogFetches = 0;
    bus = createInMemoryBus(() => undefined);
    hub = new SubscriptionHub({
      planner,
      bus,
      fields: COMMERCE_SUBSCRIPTIONS,
      client: { query: async () => ({ data: { stockChangedSnapshot: [] } }) } as never,
      log: () => undefined,
    });
    await hub.start();
  });
  afterEach(() => hub.stop());

  const stockEvent = (sku: string, version: number, storeId = 'store-1') =>
    bus.publish({
      eventId: `${sku}-${version}`,
      type: 'inventory.stock-level.changed',
      occurredAt: new Date().toISOString(),
      tenantId: TENANT.id,
      source: 'inventory',
      version: 1,
      payload: {
        __typename: 'StockLevel', sku, storeId, onHand: version * 10, reserved: 0, available: version * 10, orderable: version * 10, inTransit: 0,
        version, updatedAt: new Date().toISOString(), store: { __typename: 'Store', id: storeId }, variant: { __typename: 'Variant', sku },
        movementId: `m-${version}`, kind: 'RECEIPT', quantity: 10,
      },
    });

  const until = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(check()).toBe(true);
  };

  it('runs one execution per event for N identical subscribers, and hands each the same string', async () => {
    const received: string[][] = Array.from({ length: 25 }, () => []);
    const stops = await Promise.all(
      received.map((list, i) => hub.subscribe({ identity: pos(`key-${i}`), query: QUERY, variables: { storeId: 'store-1' } }, { next: (json) => list.push(json) })),
    );
    expect(hub.stats()).toMatchObject({ groups: 1, subscribers: 25 });
    await stockEvent('A-1', 1);
    await until(() => received.every((list) => list.length === 1));
    expect(hub.stats().executions).toBe(1);
    expect(catalogFetches).toBe(1);
    const [first] = received[0]!;
    expect(JSON.parse(first!)).toEqual({ data: { stockChanged: { sku: 'A-1', onHand: 10, variant: { title: 'Title of A-1' } } }, extensions: { version: 1, previousVersion: null } });
    for (const list of received) expect(list[0]).toBe(first);
    stops.forEach((stop) => stop());
    expect(hub.stats()).toMatchObject({ groups: 0, subscribers: 0 });
  });

  it('keeps different arguments apart, and drops events of other stores and tenants', async () => {
    const one: string[] = [];
    const two: string[] = [];
    await hub.subscribe({ identity: pos('a'), query: QUERY, variables: { storeId: 'store-1' } }, { next: (json) => one.push(json) });
    await hub.subscribe({ identity: pos('b'), query: QUERY, variables: { storeId: 'store-2' } }, { next: (json) => two.push(json) });
    expect(hub.stats().groups).toBe(2);
    await stockEvent('A-1', 1, 'store-2');
    await bus.publish({ eventId: 'x', type: 'inventory.stock-level.changed', occurredAt: new Date().toISOString(), tenantId: '00000000-0000-4000-8000-000000000002', source: 'inventory', version: 1, payload: { sku: 'A-1', storeId: 'store-1', version: 5 } });
    await until(() => two.length === 1);
    expect(one).toEqual([]);
    expect(hub.stats().executions).toBe(1);
  });

  it('fans a batch of stock levels out per sku: each store\'s subscribers get each of their skus once', async () => {
    const one: string[] = [];
    const two: string[] = [];
    await hub.subscribe({ identity: pos('a'), query: QUERY, variables: { storeId: 'store-1' } }, { next: (json) => one.push(json) });
    await hub.subscribe({ identity: pos('b'), query: QUERY, variables: { storeId: 'store-2' } }, { next: (json) => two.push(json) });
    const level = (sku: string, storeId: string, onHand: number) => ({
      __typename: 'StockLevel', sku, storeId, onHand, reserved: 0, available: onHand, orderable: onHand, inTransit: 0, version: 1, updatedAt: new Date().toISOString(),
      store: { __typename: 'Store', id: storeId }, variant: { __typename: 'Variant', sku }, movementId: `m-${sku}`, kind: 'ADJUSTMENT', quantity: onHand, previousAvailable: 0,
    });
    await bus.publish({
      eventId: 'batch-1', type: 'inventory.stock-levels.changed', occurredAt: new Date().toISOString(), tenantId: TENANT.id, source: 'inventory', version: 1,
      payload: { changes: [level('A-1', 'store-1', 11), level('B-1', 'store-1', 12), level('C-1', 'store-2', 13)] },
    });
    await until(() => one.length === 2 && two.length === 1);
    const data = (list: string[]) => list.map((json) => (JSON.parse(json) as { data: { stockChanged: unknown } }).data.stockChanged);
    expect(data(one)).toEqual([{ sku: 'A-1', onHand: 11, variant: { title: 'Title of A-1' } }, { sku: 'B-1', onHand: 12, variant: { title: 'Title of B-1' } }]);
    expect(data(two)).toEqual([{ sku: 'C-1', onHand: 13, variant: { title: 'Title of C-1' } }]);
  });

  it('refuses a subscription without a tenant', async () => {
    await expect(hub.subscribe({ identity: undefined, query: QUERY, variables: { storeId: 'store-1' } }, { next: () => undefined })).rejects.toMatchObject({
      extensions: { code: 'UNAUTHENTICATED' },
    });
    expect(hub.stats().groups).toBe(0);
  });

  it('pushes an older payload upcast to the version it knows, and neither pushes nor retries a newer one (logged once)', async () => {
    // A gateway where stock events are at version 2; version 1 (synthetic) named on hand `quantityOnHand`.
    await hub.stop();
    const said: string[] = [];
    hub = new SubscriptionHub({
      planner,
      bus,
      fields: COMMERCE_SUBSCRIPTIONS,
      client: { query: async () => ({ data: { stockChangedSnapshot: [] } }) } as never,
      read: eventReader({ versionOf: () => 2, upcasters: { 'inventory.stock-level.changed': { 1: ({ quantityOnHand, ...rest }) => ({ ...rest, onHand: quantityOnHand }) } } }),
      log: (message) => said.push(message),
    });
    await hub.start();
    const received: string[] = [];
    await hub.subscribe({ identity: pos('a'), query: QUERY, variables: { storeId: 'store-1' } }, { next: (json) => received.push(json) });
    const event = (eventId: string, version: number, payload: Record<string, unknown>) =>
      bus.publish({
        eventId,
        type: 'inventory.stock-level.changed',
        occurredAt: new Date().toISOString(),
        tenantId: TENANT.id,
        source: 'inventory',
        version,
        payload: { __typename: 'StockLevel', sku: 'A-1', storeId: 'store-1', store: { __typename: 'Store', id: 'store-1' }, variant: { __typename: 'Variant', sku: 'A-1' }, ...payload },
      });
    await event('too-new', 3, { onHand: { units: 99 }, version: 1 });
    await event('too-new', 3, { onHand: { units: 99 }, version: 1 });
    await event('old', 1, { quantityOnHand: 7, version: 2 });
    await until(() => received.length === 1);
    expect(JSON.parse(received[0]!).data.stockChanged).toEqual({ sku: 'A-1', onHand: 7, variant: { title: 'Title of A-1' } });
    expect(said).toEqual([expect.stringMatching(/^subscriptions: event inventory\.stock-level\.changed too-new from inventory is version 3, this consumer reads it up to version 2/)]);
  });
});
