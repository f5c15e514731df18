import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AuthFailureLimit } from '../auth/auth-failure-limit.js';
import type { ClientAddressOf } from '../auth/client-address.js';
import { headersOf } from '../http-headers.js';
import { CloseCode } from './close-codes.js';
import { createGraphQLWsProtocol, WS_LIMITS, type GraphQLWsProtocolOptions, type OperationBody, type ProtocolConnection } from './graphql-ws-protocol.js';

export const GRAPHQL_TRANSPORT_WS_PROTOCOL = 'graphql-transport-ws';

export interface GraphQLWsOptions extends Omit<GraphQLWsProtocolOptions<IncomingMessage>, 'authenticator'> {
  /** Authenticates sockets, and refuses upgrades from an address that failed too often; none when auth is off. */
  authenticator?: AuthFailureLimit;
  /** The client address of the upgrade request (default: the peer). */
  clientAddress?: ClientAddressOf;
  /** Interval of WebSocket pings; a socket that has not answered the previous one is closed (default 12 s). */
  keepAliveMs?: number;
  /** Largest message a client may send, as over HTTP (default 1 MiB); a larger one closes the socket with 1009. */
  maxPayloadBytes?: number;
}

/**
 * `executeOperation` through an HTTP pipeline (the gateway's Yoga `fetch`): a query or mutation a
 * socket carries is POSTed in-process with the socket's headers, the upgrade request riding along
 * (rate limits key on its client address).
 */
export function throughPipeline(fetch: (url: string, init: RequestInit, serverContext: never) => Promise<Response> | Response) {
  return async (body: OperationBody, headers: Headers, req: IncomingMessage): Promise<unknown> => {
    headers.set('content-type', 'application/json');
    headers.set('accept', 'application/graphql-response+json, application/json');
    const response = await fetch('http://gateway/graphql', { method: 'POST', headers, body: JSON.stringify(body) }, { req } as never);
    return response.json();
  };
}

/**
 * The `ws` side of graphql-ws on the gateway's HTTP port: upgrades (429 for an address that failed
 * to authenticate too often), the subprotocol, message size, keep-alive pings. The protocol itself
 * is `graphql-ws-protocol.ts`, over the socket this file adapts.
 */
export function createGraphQLWsServer(options: GraphQLWsOptions) {
  const protocol = createGraphQLWsProtocol(options);
  const wss = new WebSocketServer({
    noServer: true,
    // ws's own default is 100 MiB, buffered before we see a byte of it.
    maxPayload: options.maxPayloadBytes ?? WS_LIMITS.maxPayloadBytes,
    handleProtocols: (protocols) => (protocols.has(GRAPHQL_TRANSPORT_WS_PROTOCOL) ? GRAPHQL_TRANSPORT_WS_PROTOCOL : false),
  });
  const sockets = new Map<WebSocket, { alive: boolean; connection: ProtocolConnection }>();
  const addressOf = (request: IncomingMessage) => (options.clientAddress ? options.clientAddress(request) : (request.socket.remoteAddress ?? 'unknown'));

  const keepAlive = setInterval(() => {
    for (const [socket, state] of sockets) {
      if (!state.alive) {
        socket.close(CloseCode.Unresponsive, 'No pong to ping');
        socket.terminate();
        continue;
      }
      state.alive = false;
      socket.ping();
    }
  }, options.keepAliveMs ?? 12_000);
  keepAlive.unref();

  const onConnection = (socket: WebSocket, request: IncomingMessage) => {
    const connection = protocol.open(
      {
        get isOpen() {
          return socket.readyState === socket.OPEN;
        },
        get bufferedAmount() {
          return socket.bufferedAmount;
        },
        send: (message) => socket.send(message),
        close: (code, reason) => socket.close(code, reason),
        terminate: () => socket.terminate(),
      },
      { headers: headersOf(request), address: addressOf(request), request },
    );
    const state = { alive: true, connection };
    sockets.set(socket, state);
    socket.on('pong', () => (state.alive = true));
    socket.on('message', (data: Buffer) => {
      state.alive = true;
      connection.receive(data.toString(), data.length);
    });
    socket.on('close', () => {
      connection.closed();
      sockets.delete(socket);
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
      for (const socket of sockets.keys()) socket.close(1001, 'Server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
    connectionCount: () => sockets.size,
  };
}
