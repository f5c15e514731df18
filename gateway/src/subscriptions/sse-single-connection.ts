import { createHash, randomBytes } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';

/**
 * graphql-sse's "single connection mode" (its PROTOCOL.md), beside Yoga's own SSE (the "distinct
 * connections mode", one request per operation): a `PUT /graphql` reserves a stream and answers
 * `201` with a token; a `GET` with the token (`X-GraphQL-Event-Stream-Token` or `?token=`) opens
 * the one event stream of that reservation; each `POST` with the token and
 * `extensions.operationId` runs one operation and answers `202`, its results arriving on that
 * stream as `next {id, payload}` and then `complete {id}`; `DELETE ?operationId=` stops one.
 *
 * Each operation runs as the request that carries it: it is handed to the gateway's own pipeline
 * (authentication, CSRF, limits, persisted documents, the subscription hub) as a distinct-mode
 * request, and its answer is relayed. A request problem (4xx) is answered to the POST, as the
 * protocol says. A token only ever serves the credential that reserved it.
 *
 * Bounds (docs/limits.md): reservations per gateway, time to connect, operations per stream, the
 * operation id's length, messages held for a stream not yet open, and a slow reader.
 * Reservations live in the gateway process that made them (a client uses one gateway for them).
 */
export const SSE_LIMITS = {
  /** Reservations (open or waiting streams) one gateway keeps; one more PUT gets 503. */
  maxReservations: 1_000,
  /** A reservation whose stream is not opened within this is dropped. */
  connectTimeoutMs: 30_000,
  /** Operations running at once on one stream; one more POST gets 429. */
  maxOperationsPerStream: 100,
  /** Longest `extensions.operationId`. */
  maxOperationIdLength: 128,
  /** Messages held for a reserved stream not opened yet, or not read by a slow reader: past it the stream is closed. */
  maxPendingMessages: 1_000,
  pingMs: 12_000,
} as const;

export type SseLimits = { [K in keyof typeof SSE_LIMITS]: number };

export const TOKEN_HEADER = 'x-graphql-event-stream-token';

type Forward = (request: Request, serverContext: Record<string, unknown>) => Promise<Response>;

interface Reservation {
  token: string;
  credential: string;
  controller?: ReadableStreamDefaultController<Uint8Array>;
  pending: string[];
  operations: Map<string, () => void>;
  timer?: NodeJS.Timeout;
}

const encoder = new TextEncoder();

/** What the reserving request authenticated with; the token serves only the same. */
function credentialOf(request: Request): string {
  const h = request.headers;
  return createHash('sha256').update([h.get('authorization') ?? '', h.get('x-api-key') ?? '', h.get('x-tenant-id') ?? '', h.get('host') ?? ''].join('\n')).digest('hex');
}

function problem(status: number, code: string, message: string): Response {
  return new Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), { status, headers: { 'content-type': 'application/json; charset=utf-8' } });
}

export interface SseSingleConnection {
  plugin: Plugin;
  stats(): { reservations: number; streams: number; operations: number };
  close(): void;
}

export function createSseSingleConnection(forward: Forward, options: { endpoint?: string; limits?: Partial<SseLimits> } = {}): SseSingleConnection {
  const limits: SseLimits = { ...SSE_LIMITS, ...options.limits };
  const endpoint = options.endpoint ?? '/graphql';
  const reservations = new Map<string, Reservation>();

  function send(reservation: Reservation, event: 'next' | 'complete', data: string) {
    const message = `event: ${event}\ndata: ${data}\n\n`;
    const controller = reservation.controller;
    if (!controller) {
      if (reservation.pending.length >= limits.maxPendingMessages) return drop(reservation);
      reservation.pending.push(message);
      return;
    }
    // A reader this far behind is not reading: close rather than hold its messages.
    if ((controller.desiredSize ?? 0) < -limits.maxPendingMessages) return drop(reservation);
    controller.enqueue(encoder.encode(message));
  }

  function drop(reservation: Reservation) {
    if (reservations.get(reservation.token) !== reservation) return;
    reservations.delete(reservation.token);
    clearTimeout(reservation.timer);
    clearInterval(reservation.timer);
    for (const stop of reservation.operations.values()) stop();
    reservation.operations.clear();
    try {
      reservation.controller?.close();
    } catch {
      // already closed by the reader
    }
  }

  function reserve(request: Request): Response {
    if (reservations.size >= limits.maxReservations) return problem(503, 'SERVICE_UNAVAILABLE', 'Too many event streams are reserved on this gateway: try again shortly, or use one request per operation (distinct connections mode).');
    const reservation: Reservation = { token: randomBytes(24).toString('base64url'), credential: credentialOf(request), pending: [], operations: new Map() };
    reservation.timer = setTimeout(() => {
      if (!reservation.controller) drop(reservation);
    }, limits.connectTimeoutMs);
    reservation.timer.unref();
    reservations.set(reservation.token, reservation);
    return new Response(reservation.token, { status: 201, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  }

  function open(reservation: Reservation): Response {
    if (reservation.controller) return problem(409, 'BAD_USER_INPUT', 'The event stream of this reservation is already open.');
    clearTimeout(reservation.timer);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        reservation.controller = controller;
        controller.enqueue(encoder.encode(':\n\n'));
        for (const message of reservation.pending.splice(0)) controller.enqueue(encoder.encode(message));
        reservation.timer = setInterval(() => {
          try {
            controller.enqueue(encoder.encode(':\n\n'));
          } catch {
            drop(reservation);
          }
        }, limits.pingMs);
        reservation.timer.unref();
      },
      cancel() {
        drop(reservation);
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' } });
  }

  async function execute(reservation: Reservation, request: Request, url: URL, serverContext: Record<string, unknown>): Promise<Response> {
    const text = await request.text();
    let operationId: unknown;
    try {
      operationId = (JSON.parse(text) as { extensions?: { operationId?: unknown } } | null)?.extensions?.operationId;
    } catch {
      return problem(400, 'BAD_USER_INPUT', 'The body is not JSON.');
    }
    if (typeof operationId !== 'string' || operationId === '' || operationId.length > limits.maxOperationIdLength)
      return problem(400, 'BAD_USER_INPUT', `extensions.operationId must be a string of 1 to ${limits.maxOperationIdLength} characters.`);
    if (reservation.operations.has(operationId)) return problem(409, 'BAD_USER_INPUT', 'An operation with that operationId is already running on this stream.');
    if (reservation.operations.size >= limits.maxOperationsPerStream)
      return problem(429, 'OPERATION_LIMIT_EXCEEDED', `At most ${limits.maxOperationsPerStream} operations may run at once on one event stream.`);

    // The operation runs as a distinct-mode request: the same pipeline as any other.
    const headers = new Headers(request.headers);
    headers.delete(TOKEN_HEADER);
    headers.delete('content-length');
    headers.set('accept', 'text/event-stream');
    const target = new URL(url);
    target.searchParams.delete('token');
    const response = await forward(new Request(target, { method: 'POST', headers, body: text }), serverContext);
    if (!response.ok || !response.body || !response.headers.get('content-type')?.includes('text/event-stream')) return response;

    const reader = response.body.getReader();
    let stopped = false;
    const stop = () => {
      stopped = true;
      void reader.cancel().catch(() => {});
    };
    reservation.operations.set(operationId, stop);
    void relay(reader, (data) => send(reservation, 'next', `{"id":${JSON.stringify(operationId)},"payload":${data}}`))
      .catch(() => {})
      .finally(() => {
        if (reservation.operations.get(operationId) !== stop) return;
        reservation.operations.delete(operationId);
        if (!stopped && reservations.has(reservation.token)) send(reservation, 'complete', JSON.stringify({ id: operationId }));
      });
    return new Response(null, { status: 202 });
  }

  function cancel(reservation: Reservation, url: URL): Response {
    const operationId = url.searchParams.get('operationId');
    if (!operationId) return problem(400, 'BAD_USER_INPUT', 'DELETE needs an operationId search parameter.');
    const stop = reservation.operations.get(operationId);
    reservation.operations.delete(operationId);
    stop?.();
    if (stop && reservations.has(reservation.token)) send(reservation, 'complete', JSON.stringify({ id: operationId }));
    return new Response(null, { status: 200 });
  }

  const plugin: Plugin = {
    onRequest({ request, url, serverContext, endResponse }) {
      if (url.pathname !== endpoint) return;
      if (request.method === 'PUT') return endResponse(reserve(request));
      const token = request.headers.get(TOKEN_HEADER) ?? url.searchParams.get('token');
      if (token === null) return;
      const reservation = reservations.get(token);
      // An unknown token and one reserved by another credential read the same.
      if (!reservation || reservation.credential !== credentialOf(request)) return endResponse(problem(404, 'NOT_FOUND', 'No event stream is reserved with that token (it expired, or its stream closed): reserve a new one with PUT.'));
      if (request.method === 'GET') {
        if (!(request.headers.get('accept') ?? '').includes('text/event-stream')) return endResponse(problem(406, 'BAD_USER_INPUT', 'Open the reserved stream with Accept: text/event-stream.'));
        return endResponse(open(reservation));
      }
      if (request.method === 'DELETE') return endResponse(cancel(reservation, url));
      if (request.method === 'POST') return execute(reservation, request, url, serverContext as Record<string, unknown>).then(endResponse);
      return endResponse(problem(405, 'BAD_USER_INPUT', 'With a reservation token: GET opens the stream, POST runs an operation, DELETE stops one.'));
    },
  };

  return {
    plugin,
    stats: () => {
      let streams = 0;
      let operations = 0;
      for (const reservation of reservations.values()) {
        if (reservation.controller) streams++;
        operations += reservation.operations.size;
      }
      return { reservations: reservations.size, streams, operations };
    },
    close() {
      for (const reservation of [...reservations.values()]) drop(reservation);
    },
  };
}

/** Reads a distinct-mode event stream and hands each `next` event's data on, until `complete` or its end. */
async function relay(reader: ReadableStreamDefaultReader<Uint8Array>, next: (data: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (event === 'complete') {
        void reader.cancel().catch(() => {});
        return;
      }
      if (event === 'next' && data.length) next(data.join('\n'));
    }
  }
}
