import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { context, propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { GraphQLError } from 'graphql';
import { SubgraphClient } from '../../gateway/src/subgraph-client.js';
import { CONTEXT_HEADER, REQUEST_ID_HEADER, routeRequest, verifyContext } from '../../lib/tenant/signed-context.js';

/** The gateway's one way to call subgraphs, against a real tiny HTTP server (no mocked fetch). */
const SECRET = 'unit-test-secret';

interface Seen {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base: string;
const seen: Seen[] = [];
/** What the server answers next, by path; default: echo the operation's variables as data. */
let answer: (req: IncomingMessage, res: ServerResponse, body: string) => void;

const echo = (_req: IncomingMessage, res: ServerResponse, body: string) => {
  const { variables } = JSON.parse(body) as { variables?: unknown };
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { echo: variables ?? null } }));
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ path: req.url ?? '', headers: req.headers, body });
      answer(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
  answer = echo;
});

const clientFor = (urls: Record<string, string>, options: { timeoutMs?: number; secret?: string } = {}) =>
  new SubgraphClient({ urls, secret: options.secret ?? SECRET, timeoutMs: options.timeoutMs });

const unavailable = (error: unknown) => {
  expect(error).toBeInstanceOf(GraphQLError);
  return { message: (error as GraphQLError).message, ...(error as GraphQLError).extensions };
};

describe('the internal subgraph client', () => {
  it('signs a query for its caller, bound to the operation, with the request id', async () => {
    const client = clientFor({ tenant: `${base}/graphql` });
    const operation = { query: 'query Q($a: Int) { echo(a: $a) }', variables: { a: 1 } };
    const reply = await client.query('tenant', operation, { caller: { tenantId: 't1', roles: ['admin'], storeIds: ['s1'], requestId: 'req-1' } });
    expect(reply).toEqual({ data: { echo: { a: 1 } } });
    const [request] = seen;
    expect(request!.path).toBe('/graphql');
    expect(request!.headers[REQUEST_ID_HEADER]).toBe('req-1');
    const verified = verifyContext(request!.headers[CONTEXT_HEADER] as string, SECRET, operation);
    expect(verified).toEqual(expect.objectContaining({ tenantId: 't1', roles: ['admin'], storeIds: ['s1'], requestId: 'req-1' }));
    // Bound to that operation: another one does not verify.
    expect(() => verifyContext(request!.headers[CONTEXT_HEADER] as string, SECRET, { ...operation, variables: { a: 2 } })).toThrow();
    await client.close();
  });

  it('signs nothing without the secret (a plain gateway), but still sends a request id', async () => {
    const client = new SubgraphClient({ urls: { tenant: base } });
    await client.query('tenant', { query: '{ echo }' }, { caller: { roles: ['gateway'] } });
    expect(seen[0]!.headers[CONTEXT_HEADER]).toBeUndefined();
    expect(seen[0]!.headers[REQUEST_ID_HEADER]).toEqual(expect.any(String));
    await client.close();
  });

  it('carries the active trace to the subgraph', async () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const client = clientFor({ tenant: base });
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const active = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED });
    try {
      await context.with(active, () => client.query('tenant', { query: '{ echo }' }, { caller: { roles: ['gateway'] } }));
    } finally {
      propagation.disable();
      context.disable();
      await client.close();
    }
    expect(seen[0]!.headers.traceparent).toBe(`00-${traceId}-b7ad6b7169203331-01`);
  });

  it('maps a subgraph it cannot reach, one that answers no GraphQL, one too slow, and one it does not know to SERVICE_UNAVAILABLE', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const client = clientFor({ inventory: closedUrl, catalog: base, pricing: base }, { timeoutMs: 200 });
    const caller = { caller: { roles: ['gateway'] } };

    const down = await client.query('inventory', { query: '{ a }' }, caller).catch((error: unknown) => error);
    expect(unavailable(down)).toEqual(expect.objectContaining({ code: 'SERVICE_UNAVAILABLE', service: 'inventory', message: 'The inventory service is unavailable.' }));
    // No internal address in what a client sees.
    expect((down as Error).message).not.toContain('127.0.0.1');

    answer = (_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>');
    const notGraphQL = await client.query('catalog', { query: '{ a }' }, { ...caller, unavailableMessage: 'The catalog is away.' }).catch((error: unknown) => error);
    expect(unavailable(notGraphQL)).toEqual(expect.objectContaining({ code: 'SERVICE_UNAVAILABLE', service: 'catalog', message: 'The catalog is away.' }));

    // Never answers: the timeout ends the wait.
    answer = () => undefined;
    const slow = await client.query('pricing', { query: '{ a }' }, caller).catch((error: unknown) => error);
    expect(unavailable(slow)).toEqual(expect.objectContaining({ code: 'SERVICE_UNAVAILABLE', service: 'pricing' }));

    const unknown = await client.query('orders', { query: '{ a }' }, caller).catch((error: unknown) => error);
    expect(unavailable(unknown)).toEqual(expect.objectContaining({ code: 'SERVICE_UNAVAILABLE', service: 'orders' }));
    server.closeAllConnections();
    await client.close();
  });

  it('passes a subgraph GraphQL error through as it was sent', async () => {
    answer = (_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: null, errors: [{ message: 'No.', extensions: { code: 'FORBIDDEN' } }] }));
    const client = clientFor({ tenant: base });
    expect(await client.query('tenant', { query: '{ a }' }, { caller: { roles: ['gateway'] } })).toEqual({ data: null, errors: [{ message: 'No.', extensions: { code: 'FORBIDDEN' } }] });
    await client.close();
  });

  it('sends identical planned fetches of one caller in flight together once, and unshared ones (mutations) every time', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    answer = (req, res, body) => void held.then(() => echo(req, res, body));
    const client = clientFor({ catalog: base });
    const body = JSON.stringify({ query: '{ a }', variables: { n: 1 } });
    const headers = () => ({ 'content-type': 'application/json' });
    const both = Promise.all([client.post('catalog', base, headers(), body, 'tenant-1'), client.post('catalog', base, headers(), body, 'tenant-1')]);
    const other = client.post('catalog', base, headers(), body, 'tenant-2');
    const unshared = client.post('catalog', base, headers(), body, null);
    while (seen.length < 3) await new Promise((resolve) => setImmediate(resolve));
    release();
    const [[first, second], third] = await Promise.all([both, other, unshared]);
    expect(first!.text).toBe(second!.text);
    // The pair shares one reply, which says it is shared (its one parse is frozen for them).
    expect(first).toBe(second);
    expect(first!.callers).toBe(2);
    expect((await other).callers).toBe(1);
    expect(JSON.parse(third.text)).toEqual({ data: { echo: { n: 1 } } });
    // One for tenant-1's pair, one for tenant-2, one unshared.
    expect(seen).toHaveLength(3);
    await client.close();
  });

  it('streams a body to a subgraph route, signed for that route and one use, and streams the answer back', async () => {
    answer = (_req, res, body) => res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes: body.length }));
    const client = clientFor({ catalog: `${base}/graphql` });
    const rows = Array.from({ length: 1000 }, (_, i) => `sku-${i},Product ${i}\n`);
    const reply = await client.stream('catalog', '/feeds/catalog', Readable.from(rows), { caller: { tenantId: 't1', roles: ['admin'] }, contentType: 'text/csv' });
    expect(reply.status).toBe(202);
    expect(reply.contentType).toBe('application/json');
    let text = '';
    for await (const chunk of reply.body) text += String(chunk);
    expect(JSON.parse(text)).toEqual({ bytes: rows.join('').length });
    const [request] = seen;
    expect(request!.path).toBe('/feeds/catalog');
    expect(request!.headers['content-type']).toBe('text/csv');
    const verified = verifyContext(request!.headers[CONTEXT_HEADER] as string, SECRET, routeRequest('POST', '/feeds/catalog'));
    expect(verified).toEqual(expect.objectContaining({ tenantId: 't1', roles: ['admin'], singleUse: true }));
    await client.close();
  });
});
