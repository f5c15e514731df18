import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { installTracing, uninstallTracing } from '../../lib/observability/tracing.js';
import { addProduct, createShop, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

describe('OpenTelemetry: one trace from the gateway through the subgraphs to the database', () => {
  const exporter = new InMemorySpanExporter();
  let system: TestSupergraph;
  let shop: Shop;

  beforeAll(async () => {
    installTracing({ exporter, simple: true, serviceName: 'commerce-test' });
    system = await startSupergraph();
    shop = await createShop(system);
    await addProduct(system, shop, 'Traced Tea', ['TRC-1']);
    await setPrice(system, shop, 'TRC-1', '2.00');
    await receiveStock(system, shop, 'TRC-1', 4);
  });
  afterAll(async () => {
    await system.stop();
    await uninstallTracing();
  });

  it('links the gateway span, the catalog, pricing and inventory spans and their SQL by traceparent', async () => {
    exporter.reset();
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await system.ok(
      'query TracedShelf($s: ID!) { variant(sku: "TRC-1") { title price(storeId: $s) { amount } stock(storeId: $s) { available } } }',
      { s: shop.storeId },
      { ...shop.headers, traceparent },
    );
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === '4bf92f3577b34da6a3ce929d0e0e4736');
    const service = (s: ReadableSpan) => s.attributes['commerce.service'];
    const root = spans.find((s) => service(s) === 'gateway');
    expect(root?.name).toBe('gateway query TracedShelf');
    expect(root?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    const operations = spans.filter((s) => service(s) && service(s) !== 'gateway').map(service);
    expect(new Set(operations)).toEqual(new Set(['catalog', 'pricing', 'inventory']));
    // Apollo's fetch spans sit between the gateway's operation and each subgraph's.
    expect(spans.some((s) => s.name === 'gateway.fetch')).toBe(true);
    const sql = spans.filter((s) => s.attributes['db.system'] === 'postgresql');
    for (const name of ['catalog', 'pricing', 'inventory']) {
      expect({ name, sql: sql.some((s) => String(s.attributes['db.namespace']).startsWith(name)) }).toEqual({ name, sql: true });
    }
    // Every span of the trace descends from the client's traceparent.
    const ids = new Set(spans.map((s) => s.spanContext().spanId));
    for (const span of spans) expect(ids.has(span.parentSpanContext!.spanId) || span === root).toBe(true);
  });

  it('traces orders (mercurius) the same way: its operation span and its SQL under the gateway', async () => {
    exporter.reset();
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await system.ok('query TracedOrders { orders(first: 1) { edges { node { id } } } }', {}, { ...shop.headers, traceparent });
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === '0af7651916cd43dd8448eb211c80319c');
    const orders = spans.find((s) => s.attributes['commerce.service'] === 'orders');
    // The gateway names each subgraph fetch after the client's operation.
    expect(orders?.name).toBe('orders query TracedOrders__orders__0');
    expect(spans.some((s) => s.attributes['db.system'] === 'postgresql' && String(s.attributes['db.namespace']).startsWith('orders'))).toBe(true);
    const ids = new Set(spans.map((s) => s.spanContext().spanId));
    const root = spans.find((s) => s.attributes['commerce.service'] === 'gateway');
    for (const span of spans) expect(ids.has(span.parentSpanContext!.spanId) || span === root).toBe(true);
  });
});
