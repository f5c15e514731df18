import { getOperationAST, GraphQLError, parse, type DocumentNode } from 'graphql';
import type { Authenticator, Identity } from '../auth/authenticator.js';
import type { CredentialEnd, CredentialWatch } from '../auth/credential-watch.js';
import { CloseCode } from './close-codes.js';
import { createDelivery, type BufferedSocket, type Delivery } from './socket-delivery.js';
import { credentialError, type SubscribeRequest, type SubscriptionSink } from './subscription-hub.js';

/** Per-socket defaults (docs/limits.md). */
export const WS_LIMITS = { maxPayloadBytes: 1024 * 1024, maxInitBytes: 16 * 1024, maxSubscriptionsPerSocket: 100 } as const;

/** What the protocol needs of a socket, whatever carries it (`ws`, or a test's fake). */
export interface ProtocolSocket extends BufferedSocket {
  readonly isOpen: boolean;
  /** A close frame with the code and reason. */
  close(code: number, reason: string): void;
  /** Drops the connection without waiting for the peer. */
  terminate(): void;
}

/** The part of the hub the protocol uses: subscribe, and the watch on credentials. */
export interface SubscriptionRunner {
  subscribe(request: SubscribeRequest, sink: SubscriptionSink): Promise<() => void>;
  readonly credentials: Pick<CredentialWatch, 'watch'>;
}

export interface OperationBody {
  query?: string;
  variables?: unknown;
  operationName?: string;
  /** A published (trusted) document's id, instead of `query` (decision 0026). */
  documentId?: string;
  extensions?: { persistedQuery?: { sha256Hash?: unknown } } & Record<string, unknown>;
}

export interface GraphQLWsProtocolOptions<R> {
  hub: SubscriptionRunner;
  /** Authenticates from the upgrade's headers and the `connection_init` payload; none when auth is off. */
  authenticator?: Pick<Authenticator, 'authenticate'>;
  /** Runs queries and mutations sent over the socket (the gateway's HTTP pipeline, with the upgrade request). */
  executeOperation: (body: OperationBody, headers: Headers, request: R) => Promise<unknown>;
  /** A published document of the caller's tenant by id (trusted documents); absent: none are found. */
  publishedDocument?: (identity: Identity | undefined, documentId: string) => Promise<string | null>;
  /** Time allowed for `connection_init` (default 3 s). */
  connectionInitWaitMs?: number;
  /** Bytes buffered for a socket above which updates wait and coalesce per key (default 1 MiB). */
  highWaterBytes?: number;
  /** Updates waiting for one socket above which it is closed as a slow consumer (default 1000). */
  maxPendingUpdates?: number;
  /** Largest `connection_init` message (default 16 KiB: a credential and a few headers); a larger one closes with 4400. */
  maxInitBytes?: number;
  /** Operations one socket may have running at once (default 100); one more gets an OPERATION_LIMIT_EXCEEDED error. */
  maxSubscriptionsPerSocket?: number;
  log?: (message: string) => void;
}

/** One socket's side of the protocol: what its transport hands it. */
export interface ProtocolConnection {
  /** A text message of `bytes` bytes arrived. */
  receive(data: string, bytes: number): void;
  /** The socket closed: every subscription of it ends. */
  closed(): void;
}

type ClientMessage =
  | { type: 'connection_init'; payload?: Record<string, unknown> }
  | { type: 'ping' | 'pong'; payload?: unknown }
  | { type: 'subscribe'; id: string; payload: OperationBody & { variables?: Record<string, unknown> } }
  | { type: 'complete'; id: string };

const asGraphQLError = (error: unknown): GraphQLError =>
  error instanceof GraphQLError ? error : new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });

const errorMessage = (id: string, errors: readonly GraphQLError[]) => JSON.stringify({ id, type: 'error', payload: errors.map((e) => e.toJSON()) });

/**
 * The graphql-transport-ws protocol (graphql-ws's) as a state machine over an abstract socket:
 * `connection_init` → `connection_ack`, then `subscribe` / `complete` by id, `ping` / `pong`.
 * It knows nothing of `ws` or HTTP (graphql-ws splits `makeServer` from `use/ws` the same way).
 * Payloads arrive serialised once per hub group; each socket only frames them with its id.
 */
export function createGraphQLWsProtocol<R>(options: GraphQLWsProtocolOptions<R>) {
  const log = options.log ?? console.error;
  const maxInit = options.maxInitBytes ?? WS_LIMITS.maxInitBytes;
  const maxSubscriptions = options.maxSubscriptionsPerSocket ?? WS_LIMITS.maxSubscriptionsPerSocket;

  /** Starts the protocol on a socket just upgraded: `headers` of the upgrade, the client's `address`. */
  function open(socket: ProtocolSocket, upgrade: { headers: Headers; address: string; request: R }): ProtocolConnection {
    let initReceived = false;
    let acknowledged = false;
    let headers: Headers | undefined;
    let identity: Identity | undefined;
    let unwatch: (() => void) | undefined;
    /** id → stop; null while the subscription is being set up. */
    const subscriptions = new Map<string, (() => void) | null>();
    const send = (message: string) => {
      if (socket.isOpen) socket.send(message);
    };
    const delivery: Delivery = createDelivery(
      { send, get bufferedAmount() { return socket.bufferedAmount; } },
      {
        highWaterBytes: options.highWaterBytes,
        maxPendingUpdates: options.maxPendingUpdates,
        onSlowConsumer: () => {
          socket.close(CloseCode.SlowConsumer, 'Slow consumer: too many updates waiting');
          socket.terminate();
        },
      },
    );
    const initTimer = setTimeout(() => {
      if (!initReceived) socket.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
    }, options.connectionInitWaitMs ?? 3_000);

    /** The credential stopped being valid: 4403, and every subscription of the socket ends with it. */
    const forbid = (why: CredentialEnd) => socket.close(CloseCode.Forbidden, `Forbidden: ${credentialError(why).message}`);

    const init = async (payload: Record<string, unknown> | undefined) => {
      if (initReceived) {
        socket.close(CloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
        return;
      }
      initReceived = true;
      // The same header names as over HTTP may come in the payload (browsers cannot set headers).
      const merged = new Headers(upgrade.headers);
      for (const [name, value] of Object.entries(payload ?? {})) if (typeof value === 'string') merged.set(name, value);
      headers = merged;
      try {
        identity = options.authenticator ? await options.authenticator.authenticate(merged, upgrade.address) : undefined;
      } catch (error) {
        const refused = asGraphQLError(error);
        const code = refused.extensions?.code;
        // Too many failed authentications from this address: the reason says when to retry.
        if (code === 'RATE_LIMITED') socket.close(CloseCode.RateLimited, refused.message.slice(0, 120));
        else if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN') socket.close(CloseCode.Forbidden, `Forbidden: ${refused.message}`.slice(0, 120));
        // Not a verdict on the credential (the tenant directory is unavailable): the client retries.
        else socket.close(CloseCode.TryAgainLater, `Try again later: ${refused.message}`.slice(0, 120));
        return;
      }
      if (!socket.isOpen) return;
      unwatch = options.hub.credentials.watch(identity, forbid);
      acknowledged = true;
      send(JSON.stringify({ type: 'connection_ack' }));
    };

    const run = async (id: string, sent: OperationBody) => {
      const fail = (code: string, message: string) => {
        send(errorMessage(id, [new GraphQLError(message, { extensions: { code } })]));
        subscriptions.delete(id);
      };
      // A published document by its id (`documentId`, or the APQ hash), as over HTTP; with no query beside it.
      const hash = sent.extensions?.persistedQuery?.sha256Hash;
      const documentId = typeof sent.documentId === 'string' ? sent.documentId : typeof hash === 'string' && !sent.query ? hash : undefined;
      let payload = sent as OperationBody & { query: string; variables?: Record<string, unknown> };
      if (documentId !== undefined) {
        if (sent.query) return fail('BAD_USER_INPUT', 'Send a documentId or a query, not both.');
        if (documentId.length > 128) return fail('BAD_USER_INPUT', 'A documentId is at most 128 characters.');
        const body = options.publishedDocument ? await options.publishedDocument(identity, documentId).catch(() => null) : null;
        if (!subscriptions.has(id)) return;
        if (body === null) return fail('PERSISTED_DOCUMENT_NOT_FOUND', `No persisted document ${documentId} is published for this tenant.`);
        payload = { ...sent, query: body } as typeof payload;
      } else if (identity?.persistedDocumentsOnly) {
        return fail('PERSISTED_DOCUMENT_REQUIRED', 'This API key runs published persisted documents only: send a documentId (or extensions.persistedQuery) instead of a query.');
      }
      let document: DocumentNode;
      try {
        document = parse(payload.query);
      } catch (error) {
        send(errorMessage(id, [new GraphQLError((error as Error).message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })]));
        subscriptions.delete(id);
        return;
      }
      const operation = getOperationAST(document, payload.operationName);
      if (operation && operation.operation !== 'subscription') {
        // Queries and mutations run through the gateway's HTTP pipeline: one result, then complete.
        // A document sent by id goes on by id: the HTTP pipeline looks it up (and counts it) again.
        const body: OperationBody = documentId === undefined ? payload : { ...sent, query: undefined };
        const result = await options.executeOperation(body, headers!, upgrade.request);
        if (!subscriptions.has(id)) return;
        send(JSON.stringify({ id, type: 'next', payload: result }));
        send(JSON.stringify({ id, type: 'complete' }));
        subscriptions.delete(id);
        return;
      }
      const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
      try {
        const stop = await options.hub.subscribe(
          { identity, query: document, variables: payload.variables, operationName: payload.operationName },
          { next: (json, key) => delivery.deliver(id, key, `${prefix}${json}}`) },
        );
        if (subscriptions.has(id)) subscriptions.set(id, stop);
        else stop(); // completed by the client while it was being set up
      } catch (error) {
        if (subscriptions.has(id)) send(errorMessage(id, [asGraphQLError(error)]));
        subscriptions.delete(id);
      }
    };

    const subscribe = async (message: Extract<ClientMessage, { type: 'subscribe' }>) => {
      if (!acknowledged) {
        socket.close(CloseCode.Unauthorized, 'Unauthorized');
        return;
      }
      const carries = message.payload && (typeof message.payload.query === 'string' || typeof message.payload.documentId === 'string' || typeof message.payload.extensions?.persistedQuery?.sha256Hash === 'string');
      if (typeof message.id !== 'string' || !carries) {
        socket.close(CloseCode.BadRequest, 'Invalid subscribe message');
        return;
      }
      if (subscriptions.has(message.id)) {
        socket.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${message.id} already exists`);
        return;
      }
      if (subscriptions.size >= maxSubscriptions) {
        const error = new GraphQLError(`At most ${maxSubscriptions} operations may run at once on one socket.`, { extensions: { code: 'OPERATION_LIMIT_EXCEEDED' } });
        send(errorMessage(message.id, [error]));
        return;
      }
      subscriptions.set(message.id, null);
      // The socket's credential again (cached briefly, dropped on revocation): a key revoked or a
      // token expired since connection_init opens nothing more.
      if (options.authenticator && identity?.kind !== 'anonymous') {
        try {
          await options.authenticator.authenticate(headers!);
        } catch (error) {
          const refused = asGraphQLError(error);
          if (refused.extensions.code === 'UNAUTHENTICATED') forbid(identity?.kind === 'jwt' ? 'expired' : 'revoked');
          else send(errorMessage(message.id, [refused]));
          subscriptions.delete(message.id);
          return;
        }
      }
      await run(message.id, message.payload);
    };

    const handle = async (data: string) => {
      let message: ClientMessage;
      try {
        message = JSON.parse(data) as ClientMessage;
        if (!message || typeof message.type !== 'string') throw new Error('no type');
      } catch {
        socket.close(CloseCode.BadRequest, 'Invalid message received');
        return;
      }
      switch (message.type) {
        case 'connection_init':
          return init(message.payload);
        case 'ping':
          return send(JSON.stringify({ type: 'pong' }));
        case 'pong':
          return;
        case 'subscribe':
          return subscribe(message);
        case 'complete': {
          const stop = subscriptions.get(message.id);
          subscriptions.delete(message.id);
          stop?.();
          return;
        }
        default:
          socket.close(CloseCode.BadRequest, `Unexpected message of type ${(message as { type: string }).type}`);
      }
    };

    return {
      receive(data, bytes) {
        // Before the acknowledgement only connection_init is expected, and it carries a credential and a few headers.
        if (!acknowledged && bytes > maxInit) {
          socket.close(CloseCode.BadRequest, `connection_init is larger than ${maxInit} bytes`);
          return;
        }
        handle(data).catch((error: unknown) => {
          log(`graphql-ws: ${String(error)}`);
          socket.close(CloseCode.InternalServerError, 'Internal server error');
        });
      },
      closed() {
        clearTimeout(initTimer);
        delivery.dispose();
        unwatch?.();
        for (const stop of subscriptions.values()) stop?.();
        subscriptions.clear();
      },
    };
  }

  return { open };
}
