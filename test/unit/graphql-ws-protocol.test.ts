import { GraphQLError } from 'graphql';
import type { Identity } from '../../gateway/src/auth/authenticator.js';
import { CredentialWatch } from '../../gateway/src/auth/credential-watch.js';
import { CloseCode } from '../../gateway/src/subscriptions/close-codes.js';
import { createGraphQLWsProtocol, type GraphQLWsProtocolOptions, type ProtocolSocket, type SubscriptionRunner } from '../../gateway/src/subscriptions/graphql-ws-protocol.js';
import type { SubscriptionSink } from '../../gateway/src/subscriptions/subscription-hub.js';

/** A socket that records what the protocol does with it; `bufferedAmount` is set by the test. */
class FakeSocket implements ProtocolSocket {
  sent: unknown[] = [];
  closedWith?: { code: number; reason: string };
  terminated = false;
  bufferedAmount = 0;
  get isOpen() {
    return !this.closedWith && !this.terminated;
  }
  send(message: string) {
    this.sent.push(JSON.parse(message));
  }
  close(code: number, reason: string) {
    this.closedWith ??= { code, reason };
  }
  terminate() {
    this.terminated = true;
  }
}

/** The hub's side as the protocol sees it: subscriptions and their sinks, recorded. */
class RecordingHub implements SubscriptionRunner {
  readonly credentials = new CredentialWatch();
  readonly open = new Map<string, SubscriptionSink>();
  stopped: string[] = [];
  refuse?: GraphQLError;
  async subscribe(request: Parameters<SubscriptionRunner['subscribe']>[0], sink: SubscriptionSink) {
    if (this.refuse) throw this.refuse;
    const key = JSON.stringify(request.variables ?? {});
    this.open.set(key, sink);
    return () => {
      this.open.delete(key);
      this.stopped.push(key);
    };
  }
}

const identity: Identity = { tenant: { id: 't', slug: 'shop' }, roles: ['pos'], kind: 'api-key', subject: 'k1', apiKeyId: 'k1' };
const flush = () => new Promise((resolve) => setImmediate(resolve));
const SUBSCRIBE = (id: string, storeId = 's1') => ({ id, type: 'subscribe', payload: { query: 'subscription ($s: ID!) { stockChanged(storeId: $s) { sku } }', variables: { s: storeId } } });

const opened: { closed(): void }[] = [];
afterEach(() => opened.splice(0).forEach((connection) => connection.closed()));

function setup(overrides: Partial<GraphQLWsProtocolOptions<string>> = {}) {
  const hub = new RecordingHub();
  const executed: unknown[] = [];
  const protocol = createGraphQLWsProtocol<string>({
    hub,
    authenticator: { authenticate: async () => identity },
    executeOperation: async (body, _headers, request) => {
      executed.push({ body, request });
      return { data: { ok: true } };
    },
    log: () => undefined,
    ...overrides,
  });
  const socket = new FakeSocket();
  const connection = protocol.open(socket, { headers: new Headers({ 'x-api-key': 'from-upgrade' }), address: '10.0.0.1', request: 'the upgrade' });
  opened.push(connection);
  const say = async (message: unknown) => {
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    connection.receive(text, Buffer.byteLength(text));
    await flush();
    await flush();
  };
  return { hub, socket, connection, say, executed };
}

describe('graphql-transport-ws protocol over an abstract socket', () => {
  it('acknowledges one connection_init and closes on a second', async () => {
    const { socket, say } = setup();
    await say({ type: 'connection_init', payload: {} });
    expect(socket.sent).toEqual([{ type: 'connection_ack' }]);
    await say({ type: 'connection_init' });
    expect(socket.closedWith?.code).toBe(CloseCode.TooManyInitialisationRequests);
  });

  it('closes 4401 on a subscribe before the acknowledgement, 4408 when no init comes in time', async () => {
    const early = setup();
    await early.say(SUBSCRIBE('1'));
    expect(early.socket.closedWith?.code).toBe(CloseCode.Unauthorized);
    const silent = setup({ connectionInitWaitMs: 10 });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(silent.socket.closedWith?.code).toBe(CloseCode.ConnectionInitialisationTimeout);
    silent.connection.closed();
  });

  it('closes 4400 on a message that is not JSON, and on a connection_init over its size limit', async () => {
    const bad = setup();
    await bad.say('not json');
    expect(bad.socket.closedWith?.code).toBe(CloseCode.BadRequest);
    const big = setup({ maxInitBytes: 64 });
    await big.say({ type: 'connection_init', payload: { authorization: 'x'.repeat(100) } });
    expect(big.socket.closedWith).toEqual({ code: CloseCode.BadRequest, reason: 'connection_init is larger than 64 bytes' });
  });

  it('frames each update with its id, and completes by id', async () => {
    const { hub, socket, say } = setup();
    await say({ type: 'connection_init' });
    await say(SUBSCRIBE('a'));
    const sink = hub.open.get('{"s":"s1"}')!;
    sink.next('{"data":{"stockChanged":{"sku":"A"}}}', 'A');
    expect(socket.sent.at(-1)).toEqual({ id: 'a', type: 'next', payload: { data: { stockChanged: { sku: 'A' } } } });
    await say({ type: 'complete', id: 'a' });
    expect(hub.stopped).toEqual(['{"s":"s1"}']);
  });

  it('refuses a second subscription with the same id (4409), and one past the per-socket limit with OPERATION_LIMIT_EXCEEDED', async () => {
    const { socket, say } = setup({ maxSubscriptionsPerSocket: 1 });
    await say({ type: 'connection_init' });
    await say(SUBSCRIBE('a'));
    await say(SUBSCRIBE('b', 's2'));
    expect(socket.sent.at(-1)).toMatchObject({ id: 'b', type: 'error', payload: [{ extensions: { code: 'OPERATION_LIMIT_EXCEEDED' } }] });
    await say(SUBSCRIBE('a'));
    expect(socket.closedWith?.code).toBe(CloseCode.SubscriberAlreadyExists);
  });

  it("sends the hub's refusal as the subscription's error, and runs queries through the HTTP pipeline once", async () => {
    const { hub, socket, say, executed } = setup();
    await say({ type: 'connection_init' });
    hub.refuse = new GraphQLError('No such store.', { extensions: { code: 'NOT_FOUND' } });
    await say(SUBSCRIBE('a'));
    expect(socket.sent.at(-1)).toMatchObject({ id: 'a', type: 'error', payload: [{ message: 'No such store.', extensions: { code: 'NOT_FOUND' } }] });
    await say({ id: 'q', type: 'subscribe', payload: { query: '{ products(first: 1) { edges { cursor } } }' } });
    expect(executed).toEqual([{ body: { query: '{ products(first: 1) { edges { cursor } } }' }, request: 'the upgrade' }]);
    expect(socket.sent.slice(-2)).toEqual([{ id: 'q', type: 'next', payload: { data: { ok: true } } }, { id: 'q', type: 'complete' }]);
  });

  it('closes 1013 when the credential cannot be checked now, 4403 when it is refused', async () => {
    const unavailable = setup({ authenticator: { authenticate: async () => Promise.reject(new GraphQLError('down', { extensions: { code: 'SERVICE_UNAVAILABLE' } })) } });
    await unavailable.say({ type: 'connection_init' });
    expect(unavailable.socket.closedWith?.code).toBe(CloseCode.TryAgainLater);
    const refused = setup({ authenticator: { authenticate: async () => Promise.reject(new GraphQLError('bad key', { extensions: { code: 'UNAUTHENTICATED' } })) } });
    await refused.say({ type: 'connection_init' });
    expect(refused.socket.closedWith).toEqual({ code: CloseCode.Forbidden, reason: 'Forbidden: bad key' });
  });

  it("ends the socket with 4403 when its key is revoked, and stops its subscriptions when it closes", async () => {
    const { hub, socket, connection, say } = setup();
    await say({ type: 'connection_init' });
    await say(SUBSCRIBE('a'));
    hub.credentials.revoked('k1');
    expect(socket.closedWith).toEqual({ code: CloseCode.Forbidden, reason: 'Forbidden: The API key was revoked.' });
    connection.closed();
    expect(hub.stopped).toEqual(['{"s":"s1"}']);
  });

  it('folds updates per key while the socket is behind, keeping the previousVersion the client last saw', async () => {
    const { hub, socket, say } = setup({ highWaterBytes: 100 });
    await say({ type: 'connection_init' });
    await say(SUBSCRIBE('a'));
    const sink = hub.open.get('{"s":"s1"}')!;
    const update = (sku: string, version: number, previousVersion: number | null) =>
      `{"data":{"stockChanged":{"sku":"${sku}"}},"extensions":{"version":${version},"previousVersion":${previousVersion}}}`;
    socket.bufferedAmount = 1_000;
    sink.next(update('A', 2, 1), 'A');
    sink.next(update('B', 7, 6), 'B');
    sink.next(update('A', 3, 2), 'A');
    expect(socket.sent).toHaveLength(1); // the ack only
    socket.bufferedAmount = 0;
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(socket.sent.slice(1)).toEqual([
      { id: 'a', type: 'next', payload: { data: { stockChanged: { sku: 'B' } }, extensions: { version: 7, previousVersion: 6 } } },
      { id: 'a', type: 'next', payload: { data: { stockChanged: { sku: 'A' } }, extensions: { version: 3, previousVersion: 1 } } },
    ]);
  });

  it('closes a slow consumer with 4413 once too many updates wait', async () => {
    const { hub, socket, say } = setup({ highWaterBytes: 100, maxPendingUpdates: 2 });
    await say({ type: 'connection_init' });
    await say(SUBSCRIBE('a'));
    const sink = hub.open.get('{"s":"s1"}')!;
    socket.bufferedAmount = 1_000;
    for (const sku of ['A', 'B', 'C']) sink.next(`{"data":{"stockChanged":{"sku":"${sku}"}}}`, sku);
    expect(socket.closedWith?.code).toBe(CloseCode.SlowConsumer);
    expect(socket.terminated).toBe(true);
  });
});
