import { isAsyncIterable } from '@envelop/core';
import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { CompletedEntry, IncrementalEntry, IncrementalPayload, PendingEntry } from '../executor/incremental.js';
import { maskError } from '../../../lib/graphql/mask-error.js';
import { incrementalFormat, type IncrementalFormat } from './incremental-format.js';

const BOUNDARY = 'graphql';

type Path = (string | number)[];

/**
 * Writes a stream of incremental payloads (`executeIncremental`) in one of the two formats
 * Apollo Client 4 reads, remembering what each pending id stands for (the 2022-08-24 format
 * names paths and labels where graphql-js 17 alpha 9 names ids).
 */
export function incrementalWriter(format: IncrementalFormat, log: (message: string) => void) {
  const pendings = new Map<string, PendingEntry>();
  const errorsOf = (errors: readonly unknown[] | undefined) =>
    errors && errors.length > 0 ? { errors: errors.map((error) => maskError(error instanceof GraphQLError ? error : new GraphQLError(String((error as Error)?.message ?? error), { originalError: error as Error }), log, { forwarded: true }).toJSON()) } : {};
  return (payload: IncrementalPayload | ExecutionResult): Record<string, unknown> => {
    const { pending, incremental, completed, hasNext } = payload as Partial<IncrementalPayload>;
    for (const entry of pending ?? []) pendings.set(entry.id, entry);
    const head: Record<string, unknown> = {};
    if ('data' in payload) head.data = payload.data;
    // Masked as yoga masks a whole result's (an error with a code passes, anything else becomes INTERNAL_SERVER_ERROR).
    Object.assign(head, errorsOf(payload.errors));
    if (payload.extensions) head.extensions = payload.extensions;
    if (hasNext === undefined) return head;
    if (format === 'alpha9') {
      return {
        ...head,
        ...(pending && pending.length > 0 ? { pending: pending.map(({ id, path, label }) => ({ id, path, ...(label !== undefined ? { label } : {}) })) } : {}),
        ...(incremental && incremental.length > 0
          ? { incremental: incremental.map((entry: IncrementalEntry) => ({ id: entry.id, ...('items' in entry ? { items: entry.items } : { data: entry.data }), ...errorsOf(entry.errors) })) }
          : {}),
        ...(completed && completed.length > 0 ? { completed: completed.map((entry: CompletedEntry) => ({ id: entry.id, ...errorsOf(entry.errors) })) } : {}),
        hasNext,
      };
    }
    const out: Record<string, unknown>[] = [];
    for (const entry of incremental ?? []) {
      const at = pendings.get(entry.id);
      if (!at) continue;
      const label = at.label !== undefined ? { label: at.label } : {};
      if (entry.items) out.push({ items: entry.items, path: [...at.path, entry.start ?? 0] as Path, ...label, ...errorsOf(entry.errors) });
      else out.push({ data: entry.data, path: at.path, ...label, ...errorsOf(entry.errors) });
    }
    // A deferred fragment that failed: `data: null` at its path, with why.
    for (const entry of completed ?? []) {
      const at = pendings.get(entry.id);
      if (at && entry.errors && entry.errors.length > 0) out.push({ data: null, path: at.path, ...(at.label !== undefined ? { label: at.label } : {}), ...errorsOf(entry.errors) });
    }
    return { ...head, ...(out.length > 0 ? { incremental: out } : {}), hasNext };
  };
}

/**
 * `@defer` and `@stream` over `multipart/mixed`, as Apollo Router serves them and Apollo Client
 * reads them: one part per payload, each part followed by the next boundary so a reader takes
 * it as soon as it arrives, `--graphql--` after the last (`hasNext: false`). The format is the
 * one the Accept header asks for (`incrementalFormat`); a client that asks for neither never
 * gets a stream (the executor answers it at once).
 */
export function useIncrementalDelivery(options: { log?: (message: string) => void } = {}): Plugin {
  const log = options.log ?? console.error;
  return {
    onResultProcess({ request, result, setResultProcessor }) {
      if (!isAsyncIterable(result)) return;
      const format = incrementalFormat(request.headers.get('accept'));
      if (!format) return;
      setResultProcessor((stream, fetchAPI) => {
        const iterator = (stream as AsyncIterable<IncrementalPayload>)[Symbol.asyncIterator]();
        const encoder = new fetchAPI.TextEncoder();
        const write = incrementalWriter(format, log);
        const part = (json: string) => encoder.encode(`\r\ncontent-type: application/json; charset=utf-8\r\n\r\n${json}\r\n--${BOUNDARY}`);
        let closed = false;
        const body = new fetchAPI.ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(encoder.encode(`\r\n--${BOUNDARY}`));
          },
          async pull(controller) {
            if (closed) return;
            try {
              const { done, value } = await iterator.next();
              if (done) {
                closed = true;
                controller.enqueue(encoder.encode('--\r\n'));
                controller.close();
                return;
              }
              controller.enqueue(part(JSON.stringify(write(value))));
            } catch (error) {
              // Nothing more can come: the error as a last payload, then the end.
              closed = true;
              const masked = maskError(error, log, { forwarded: true });
              controller.enqueue(part(JSON.stringify({ errors: [masked.toJSON()], hasNext: false })));
              controller.enqueue(encoder.encode('--\r\n'));
              controller.close();
            }
          },
          async cancel() {
            closed = true;
            await iterator.return?.();
          },
        });
        const spec = format === 'alpha9' ? 'incrementalSpec=v0.2' : 'deferSpec=20220824';
        return new fetchAPI.Response(body, {
          status: 200,
          headers: { 'content-type': `multipart/mixed;boundary="${BOUNDARY}";${spec}`, 'cache-control': 'no-cache' },
        });
      }, 'multipart/mixed');
    },
  };
}
