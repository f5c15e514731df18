import type { IncomingMessage } from 'node:http';
import { headersOf } from '../http-headers.js';
import type { Duplex } from 'node:stream';
import { getOperationAST, GraphQLError, parse, type DocumentNode } from 'graphql';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Identity } from '../auth/authenticator.js';
import type { AuthFailureLimit } from '../auth/auth-failure-limit.js';
import type { ClientAddressOf } from '../auth/client-address.js';
import { CloseCode } from './close-codes.js';
import { credentialError, type SubscriptionHub } from './subscription-hub.js';
import type { CredentialEnd } from '../auth/credential-watch.js';

export const GRAPHQL_TRANSPORT_WS_PROTOCOL = 'graphql-transport-ws';

/** Per-socket defaults (docs/limits.md). */
export const WS_LIMITS = { maxPayloadBytes: 1024 * 1024, maxInitBytes: 16 * 1024, maxSubscriptionsPerSocket: 100 } as const;

export interface GraphQLWsOptions {
  hub: SubscriptionHub;
  /** Authenticates from the upgrade request's headers and the `connection_init` payload; none when auth is off. */
  authenticator?: AuthFailureLimit;
  /** The client address of the upgrade request (default: the peer). */
  clientAddress?: ClientAddressOf;
  /** Runs queries and mutations sent over the socket (the gateway's HTTP pipeline, with the upgrade request). */
  executeOperation: (body: { query: string; variables?: unknown; operationName?: string }, headers: Headers, req: IncomingMessage) => Promise<unknown>;
  /** Time allowed for `connection_init` (default 3 s). */
  connectionInitWaitMs?: number;
  /** Interval of WebSocket pings; a socket that has not answered the previous one is closed (default 12 s). */
  keepAliveMs?: number;
  /** Bytes buffered for a socket above which updates wait and coalesce per key (default 1 MiB). */
  highWaterBytes?: number;
  /** Updates waiting for one socket above which it is closed as a slow consumer (default 1000). */
  maxPendingUpdates?: number;
  /** Largest message a client may send, as over HTTP (default 1 MiB); a larger one closes the socket with 1009. */
  maxPayloadBytes?: number;
  /** Largest `connection_init` message (default 16 KiB: a credential and a few headers); a larger one closes with 4400. */
  maxInitBytes?: number;
  /** Operations one socket may have running at once (default 100); one more gets an OPERATION_LIMIT_EXCEEDED error. */
  maxSubscriptionsPerSocket?: number;
  log?: (message: string) => void;
}

interface Connection {
  socket: WebSocket;
  request: IncomingMessage;
  upgradeHeaders: Headers;
  headers?: Headers;
  identity?: Identity;
  initReceived: boolean;
  acknowledged: boolean;
  alive: boolean;
  /** id → stop; null while the subscription is being set up. */
  subscriptions: Map<string, (() => void) | null>;
  /** Updates held back while the socket's buffer is full, newest per (id, key). */
  pending: Map<string, string>;
  flushTimer?: NodeJS.Timeout;
  /** Stops watching the credential the socket authenticated with. */
  unwatch?: () => void;
}

type ClientMessage =
  | { type: 'connection_init'; payload?: Record<string, unknown> }
  | { type: 'ping' | 'pong'; payload?: unknown }
  | { type: 'subscribe'; id: string; payload: { query: string; variables?: Record<string, unknown>; operationName?: string } }
  | { type: 'complete'; id: string };

/**
 * The graphql-transport-ws protocol (graphql-ws's), served on the gateway's HTTP port. Payloads
 * arrive serialised once per group; each socket only frames them with its subscription id.
 */
export function createGraphQLWsServer(options: GraphQLWsOptions) {
  const log = options.log ?? console.error;
  const highWater = options.highWaterBytes ?? 1024 * 1024;
  const maxPending = options.maxPendingUpdates ?? 1000;
  const maxInit = options.maxInitBytes ?? WS_LIMITS.maxInitBytes;
  const maxSubscriptions = options.maxSubscriptionsPerSocket ?? WS_LIMITS.maxSubscriptionsPerSocket;
  const wss = new WebSocketServer({
    noServer: true,
    // ws's own default is 100 MiB, buffered before we see a byte of it.
    maxPayload: options.maxPayloadBytes ?? WS_LIMITS.maxPayloadBytes,
    handleProtocols: (protocols) => (protocols.has(GRAPHQL_TRANSPORT_WS_PROTOCOL) ? GRAPHQL_TRANSPORT_WS_PROTOCOL : false),
  });
  const connections = new Set<Connection>();
  const addressOf = (request: IncomingMessage) => (options.clientAddress ? options.clientAddress(request) : (request.socket.remoteAddress ?? 'unknown'));

  const keepAlive = setInterval(() => {
    for (const connection of connections) {
      if (!connection.alive) {
        connection.socket.close(CloseCode.Unresponsive, 'No pong to ping');
        connection.socket.terminate();
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
    }
  }, options.keepAliveMs ?? 12_000);
  keepAlive.unref();

  const send = (connection: Connection, message: string) => {
    if (connection.socket.readyState === connection.socket.OPEN) connection.socket.send(message);
  };

  const flush = (connection: Connection) => {
    connection.flushTimer = undefined;
    for (const [slot, message] of connection.pending) {
      if (connection.socket.bufferedAmount > highWater) break;
      connection.pending.delete(slot);
      send(connection, message);
    }
    if (connection.pending.size > 0) connection.flushTimer = setTimeout(() => flush(connection), 20);
  };

  /** Sends now, or holds the newest update per (subscription, key) while the client is behind. */
  const deliver = (connection: Connection, id: string, key: string, message: string) => {
    if (connection.pending.size === 0 && connection.socket.bufferedAmount <= highWater) {
      send(connection, message);
      return;
    }
    const slot = `${id}\n${key}`;
    const older = connection.pending.get(slot);
    connection.pending.delete(slot);
    // The newer state replaces the one still waiting; its previousVersion becomes the older one's, the
    // last this client was sent: it can tell the fold (no loss) from a gap.
    connection.pending.set(slot, older === undefined ? message : foldInto(message, older));
    if (connection.pending.size > maxPending) {
      connection.socket.close(CloseCode.SlowConsumer, 'Slow consumer: too many updates waiting');
      connection.socket.terminate();
      return;
    }
    connection.flushTimer ??= setTimeout(() => flush(connection), 20);
  };

  /** The credential stopped being valid: 4403, and every subscription of the socket ends with it. */
  const forbid = (connection: Connection, why: CredentialEnd) => {
    connection.socket.close(CloseCode.Forbidden, `Forbidden: ${credentialError(why).message}`);
  };

  const errorMessage = (id: string, errors: readonly GraphQLError[]) =>
    JSON.stringify({ id, type: 'error', payload: errors.map((e) => e.toJSON()) });

  const asGraphQLError = (error: unknown): GraphQLError =>
    error instanceof GraphQLError ? error : new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });

  const onSubscribe = async (connection: Connection, id: string, payload: { query: string; variables?: Record<string, unknown>; operationName?: string }) => {
    let document: DocumentNode;
    try {
      document = parse(payload.query);
    } catch (error) {
      send(connection, errorMessage(id, [new GraphQLError((error as Error).message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })]));
      connection.subscriptions.delete(id);
      return;
    }
    const operation = getOperationAST(document, payload.operationName);
    if (operation && operation.operation !== 'subscription') {
      // Queries and mutations run through the gateway's HTTP pipeline: one result, then complete.
      const result = await options.executeOperation(payload, connection.headers!, connection.request);
      if (!connection.subscriptions.has(id)) return;
      send(connection, JSON.stringify({ id, type: 'next', payload: result }));
      send(connection, JSON.stringify({ id, type: 'complete' }));
      connection.subscriptions.delete(id);
      return;
    }
    const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
    try {
      const stop = await options.hub.subscribe(
        { identity: connection.identity, query: document, variables: payload.variables, operationName: payload.operationName },
        { next: (json, key) => deliver(connection, id, key, `${prefix}${json}}`) },
      );
      if (connection.subscriptions.has(id)) connection.subscriptions.set(id, stop);
      else stop(); // completed by the client while it was being set up
    } catch (error) {
      if (connection.subscriptions.has(id)) send(connection, errorMessage(id, [asGraphQLError(error)]));
      connection.subscriptions.delete(id);
    }
  };

  const onMessage = async (connection: Connection, data: string) => {
    let message: ClientMessage;
    try {
      message = JSON.parse(data) as ClientMessage;
      if (!message || typeof message.type !== 'string') throw new Error('no type');
    } catch {
      connection.socket.close(CloseCode.BadRequest, 'Invalid message received');
      return;
    }
    switch (message.type) {
      case 'connection_init': {
        if (connection.initReceived) {
          connection.socket.close(CloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
          return;
        }
        connection.initReceived = true;
        // The same header names as over HTTP may come in the payload (browsers cannot set headers).
        const headers = new Headers(connection.upgradeHeaders);
        for (const [name, value] of Object.entries(message.payload ?? {})) {
          if (typeof value === 'string') headers.set(name, value);
        }
        connection.headers = headers;
        try {
          connection.identity = options.authenticator ? await options.authenticator.authenticate(headers, addressOf(connection.request)) : undefined;
        } catch (error) {
          const refused = asGraphQLError(error);
          // Too many failed authentications from this address: the reason says when to retry.
          const code = refused.extensions?.code;
          if (code === 'RATE_LIMITED') connection.socket.close(CloseCode.RateLimited, refused.message.slice(0, 120));
          else if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN') connection.socket.close(CloseCode.Forbidden, `Forbidden: ${refused.message}`.slice(0, 120));
          // Not a verdict on the credential (the tenant directory is unavailable): the client retries.
          else connection.socket.close(CloseCode.TryAgainLater, `Try again later: ${refused.message}`.slice(0, 120));
          return;
        }
        if (connection.socket.readyState !== connection.socket.OPEN) return;
        connection.unwatch = options.hub.credentials.watch(connection.identity, (why) => forbid(connection, why));
        connection.acknowledged = true;
        send(connection, JSON.stringify({ type: 'connection_ack' }));
        return;
      }
      case 'ping':
        send(connection, JSON.stringify({ type: 'pong' }));
        return;
      case 'pong':
        return;
      case 'subscribe': {
        if (!connection.acknowledged) {
          connection.socket.close(CloseCode.Unauthorized, 'Unauthorized');
          return;
        }
        if (typeof message.id !== 'string' || !message.payload || typeof message.payload.query !== 'string') {
          connection.socket.close(CloseCode.BadRequest, 'Invalid subscribe message');
          return;
        }
        if (connection.subscriptions.has(message.id)) {
          connection.socket.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${message.id} already exists`);
          return;
        }
        if (connection.subscriptions.size >= maxSubscriptions) {
          const error = new GraphQLError(`At most ${maxSubscriptions} operations may run at once on one socket.`, { extensions: { code: 'OPERATION_LIMIT_EXCEEDED' } });
          send(connection, errorMessage(message.id, [error]));
          return;
        }
        connection.subscriptions.set(message.id, null);
        // The socket's credential again (cached briefly, dropped on revocation): a key revoked or a token expired since
        // connection_init opens nothing more.
        if (options.authenticator && connection.identity?.kind !== 'anonymous') {
          try {
            await options.authenticator.authenticate(connection.headers!);
          } catch (error) {
            const refused = asGraphQLError(error);
            if (refused.extensions.code === 'UNAUTHENTICATED') forbid(connection, connection.identity?.kind === 'jwt' ? 'expired' : 'revoked');
            else send(connection, errorMessage(message.id, [refused]));
            connection.subscriptions.delete(message.id);
            return;
          }
        }
        await onSubscribe(connection, message.id, message.payload);
        return;
      }
      case 'complete': {
        const stop = connection.subscriptions.get(message.id);
        connection.subscriptions.delete(message.id);
        stop?.();
        return;
      }
      default:
        connection.socket.close(CloseCode.BadRequest, `Unexpected message of type ${(message as { type: string }).type}`);
    }
  };

  const onConnection = (socket: WebSocket, request: IncomingMessage) => {
    const upgradeHeaders = headersOf(request);
    const connection: Connection = {
      socket, request, upgradeHeaders, initReceived: false, acknowledged: false, alive: true, subscriptions: new Map(), pending: new Map(),
    };
    connections.add(connection);
    const initTimer = setTimeout(() => {
      if (!connection.initReceived) connection.socket.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
    }, options.connectionInitWaitMs ?? 3_000);
    socket.on('pong', () => (connection.alive = true));
    socket.on('message', (data: Buffer) => {
      connection.alive = true;
      // Before the acknowledgement only connection_init is expected, and it carries a credential and a few headers.
      if (!connection.acknowledged && data.length > maxInit) {
        socket.close(CloseCode.BadRequest, `connection_init is larger than ${maxInit} bytes`);
        return;
      }
      onMessage(connection, data.toString()).catch((error) => {
        log(`graphql-ws: ${String(error)}`);
        socket.close(CloseCode.InternalServerError, 'Internal server error');
      });
    });
    socket.on('close', () => {
      clearTimeout(initTimer);
      if (connection.flushTimer) clearTimeout(connection.flushTimer);
      connection.unwatch?.();
      for (const stop of connection.subscriptions.values()) stop?.();
      connection.subscriptions.clear();
      connections.delete(connection);
    });
    socket.on('error', () => undefined);
  };
  wss.on('connection', onConnection);

  return {
    /**
     * Hands an HTTP upgrade on the GraphQL path to the WebSocket server; an address that failed to
     * authenticate too often gets HTTP 429 with Retry-After instead.
     */
    async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer) {
      socket.on('error', () => undefined);
      const wait = options.authenticator ? await options.authenticator.blockedFor(addressOf(request)).catch(() => 0) : 0;
      if (wait > 0) {
        socket.end(`HTTP/1.1 429 Too Many Requests\r\nRetry-After: ${wait}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
        return;
      }
      wss.handleUpgrade(request, socket, head, (ws) => {
        if (ws.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) {
          ws.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
          return;
        }
        wss.emit('connection', ws, request);
      });
    },
    /** Closes every socket with 1001 (going away) and stops. */
    async close() {
      clearInterval(keepAlive);
      for (const connection of connections) connection.socket.close(1001, 'Server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
    connectionCount: () => connections.size,
  };
}

const PREVIOUS_VERSION_AT_END = /"previousVersion":(-?\d+|null)\}\}\}$/;

/** `newer` with the `previousVersion` of `older` (both end with the extensions the hub writes last). */
export function foldInto(newer: string, older: string): string {
  const previous = PREVIOUS_VERSION_AT_END.exec(older);
  if (!previous || !PREVIOUS_VERSION_AT_END.test(newer)) return newer;
  return newer.replace(PREVIOUS_VERSION_AT_END, `"previousVersion":${previous[1]}}}}`);
}
