import { isAsyncIterable } from '@envelop/core';
import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** How often an idle stream sends a heartbeat (`{}`), as Apollo Router does. */
export const MULTIPART_HEARTBEAT_MS = 5_000;

const BOUNDARY = 'graphql';

/** `multipart/mixed` with `subscriptionSpec` (any quoting, any case) among the accepted media types. */
const wantsMultipartSubscription = (accept: string | null) =>
  (accept ?? '').split(',').some((type) => {
    const [media, ...params] = type.toLowerCase().replace(/\s/g, '').split(';');
    return media === 'multipart/mixed' && params.some((p) => p.startsWith('subscriptionspec='));
  });

/** Drops what only this process reads (yoga's internals) from a result. */
const stringify = (result: ExecutionResult) => JSON.stringify({ data: result.data, ...(result.errors ? { errors: result.errors } : {}), ...(result.extensions ? { extensions: result.extensions } : {}) });

/**
 * Subscriptions over HTTP multipart, as Apollo Client's HttpLink asks for them (`Accept:
 * multipart/mixed;subscriptionSpec=1.0`) and Apollo Router serves them: one part per event,
 * `{"payload": <result>}`, a heartbeat part `{}` at once and every 5 s, `--graphql--` at the end; each part is followed by the next
 * boundary, so a reader takes it as soon as it arrives.
 * A POS on Apollo Client needs no WebSocket link. Results that are not streams (a refused
 * operation) are answered as usual (application/json).
 */
export function useMultipartSubscriptions(options: { heartbeatMs?: number } = {}): Plugin {
  const heartbeatMs = options.heartbeatMs ?? MULTIPART_HEARTBEAT_MS;
  return {
    onResultProcess({ request, result, setResultProcessor }) {
      if (!isAsyncIterable(result) || !wantsMultipartSubscription(request.headers.get('accept'))) return;
      setResultProcessor((stream, fetchAPI) => {
        const iterator = (stream as AsyncIterable<ExecutionResult>)[Symbol.asyncIterator]();
        const encoder = new fetchAPI.TextEncoder();
        // Each part ends with the next boundary, so a reader takes it as soon as it arrives.
        const part = (json: string) => encoder.encode(`\r\ncontent-type: application/json; charset=utf-8\r\n\r\n${json}\r\n--${BOUNDARY}`);
        let heartbeat: ReturnType<typeof setInterval> | undefined;
        let closed = false;
        const body = new fetchAPI.ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(encoder.encode(`\r\n--${BOUNDARY}`));
            controller.enqueue(part('{}'));
            heartbeat = setInterval(() => {
              if (!closed) controller.enqueue(part('{}'));
            }, heartbeatMs);
            heartbeat.unref?.();
          },
          async pull(controller) {
            try {
              const { done, value } = await iterator.next();
              if (closed) return;
              if (done) {
                closed = true;
                clearInterval(heartbeat);
                controller.enqueue(encoder.encode('--\r\n'));
                controller.close();
                return;
              }
              controller.enqueue(part(`{"payload":${stringify(value)}}`));
            } catch (error) {
              // A transport-level error ends the stream, as the protocol says: payload null, errors beside it.
              closed = true;
              clearInterval(heartbeat);
              const message = (error as { extensions?: { code?: string } })?.extensions?.code ? (error as Error).message : 'Unexpected error.';
              controller.enqueue(part(JSON.stringify({ payload: null, errors: [{ message }] })));
              controller.enqueue(encoder.encode('--\r\n'));
              controller.close();
            }
          },
          async cancel() {
            closed = true;
            clearInterval(heartbeat);
            await iterator.return?.();
          },
        });
        return new fetchAPI.Response(body, {
          status: 200,
          headers: {
            'content-type': `multipart/mixed;boundary="${BOUNDARY}";subscriptionSpec="1.0"`,
            'cache-control': 'no-cache',
            connection: 'keep-alive',
          },
        });
      }, 'multipart/mixed');
    },
  };
}
