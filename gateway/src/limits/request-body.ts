import type { IncomingMessage, ServerResponse } from 'node:http';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { headersOf } from '../http-headers.js';

/** Beyond this many bytes an oversized body is no longer read to its end: the socket is closed. */
export const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

/**
 * Reads a request body of at most `maxBytes`, with or without a Content-Length (chunked).
 * Resolves to null when it is larger: the rest is read and thrown away (up to `MAX_DRAIN_BYTES`),
 * so that the client, still sending, gets the 413 that follows rather than a connection reset.
 */
export function readBoundedBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    let size = 0;
    let tooLarge = declared > maxBytes;
    if (declared > MAX_DRAIN_BYTES) {
      req.pause();
      return resolve(null);
    }
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        tooLarge = true;
        chunks.length = 0;
      } else if (!tooLarge) chunks.push(chunk);
      if (size > MAX_DRAIN_BYTES) {
        req.off('data', onData);
        req.pause();
        resolve(null);
      }
    };
    req.on('data', onData);
    req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

/** `readBoundedBody` for a fetch Request's body (the request plugins): null when larger than `maxBytes`. */
export async function readBoundedStream(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Buffer | null> {
  if (!body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (let part = await reader.read(); !part.done; part = await reader.read()) {
    size += part.value.length;
    if (size > MAX_DRAIN_BYTES) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    if (size <= maxBytes) chunks.push(part.value);
  }
  return size > maxBytes ? null : Buffer.concat(chunks, size);
}

/** A plain-HTTP refusal in the shape of the endpoint's answers; the connection is closed after it. */
export function refuseRequest(res: ServerResponse, status: number, body: object): void {
  if (res.headersSent) return;
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), connection: 'close' }).end(json);
}

/** Writes a fetch Response to a node response as it streams (a subscription over server-sent events may be the answer). */
export async function sendResponse(response: Response, res: ServerResponse): Promise<void> {
  res.writeHead(response.status, Object.fromEntries(response.headers));
  const reader = response.body?.getReader();
  // The client left: stop the stream (and whatever feeds it).
  res.on('close', () => void reader?.cancel().catch(() => undefined));
  try {
    for (let part = await reader?.read(); part && !part.done; part = await reader!.read()) res.write(part.value);
    res.end();
  } catch {
    res.destroy();
  }
}

/**
 * The gateway's Node request handler: a GraphQL POST without a Content-Length (chunked), or with
 * one past `maxBytes`, is read here first, within the bound (413 above it); everything else goes
 * to yoga as it streams (the webhook route has its own bound; a feed upload streams through).
 */
export function limitBodySize(
  yoga: ((req: IncomingMessage, res: ServerResponse) => unknown) & { fetch: (url: string, init: RequestInit, context: object) => Promise<Response> | Response },
  maxBytes: number,
) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const length = req.headers['content-length'];
    if (req.method !== 'POST' || (length !== undefined && Number(length) <= maxBytes) || (req.url ?? '/').split('?')[0] !== '/graphql') {
      void yoga(req, res);
      return;
    }
    void (async () => {
      const body = await readBoundedBody(req, maxBytes);
      if (!body) {
        refuseRequest(res, 413, { errors: [{ message: `The request body is larger than ${maxBytes} bytes.`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
        return;
      }
      const headers = headersOf(req);
      headers.delete('transfer-encoding');
      headers.set('content-length', String(body.length));
      await sendResponse(await yoga.fetch(`http://gateway${req.url}`, { method: 'POST', headers, body: new Uint8Array(body) }, { req, res }), res);
    })().catch(() => res.destroy());
  };
}

/** Yoga's own bound on a GraphQL request body (its `maxRequestBodySize` default), kept for requests that do not come through `limitBodySize`. */
export const YOGA_BODY_LIMIT = 25_000_000;

/**
 * Yoga's `useLimitRequestBodySize` (same checks, same errors), without its per-request stream
 * pipeline when the body is already bounded by a Content-Length: the Node server frames a body by
 * it, and `limitBodySize` gives every GraphQL POST one (reading a chunked body first). Yoga's
 * version piped every body through a TransformStream (a stream pipeline, an AbortController and
 * a DOMException on its end): ~7 % of the gateway's busy time in `bench:reads` (decision 0051).
 * A body without a Content-Length (in-process `fetch` with a stream) is still counted as it is read.
 */
export function useBoundedBody(limit = YOGA_BODY_LIMIT): Plugin {
  const tooLarge = () => createGraphQLError('Request body too large', { extensions: { http: { status: 413 }, code: 'REQUEST_ENTITY_TOO_LARGE' } });
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const contentLength = request.headers.get('content-length');
      if (contentLength != null) {
        if (!/^\d+$/.test(contentLength)) throw createGraphQLError('Content-Length header is invalid.', { extensions: { http: { status: 400 }, code: 'BAD_REQUEST' } });
        if (Number(contentLength) > limit) throw tooLarge();
        return;
      }
      if (requestParser == null || request.body == null) return;
      const parse = requestParser;
      setRequestParser((req) => {
        let bytesRead = 0;
        const Transform = req.body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
        const body = req.body!.pipeThrough(
          new Transform({
            transform(chunk: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>) {
              bytesRead += chunk.byteLength;
              if (bytesRead > limit) controller.error(tooLarge());
              else controller.enqueue(chunk);
            },
          }),
        );
        return parse(new fetchAPI.Request(req.url, { method: req.method, headers: req.headers, signal: req.signal, body, duplex: 'half' } as RequestInit));
      });
    },
  };
}
