import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface LiveSubscription<T = any> {
  /** Payloads received so far (ExecutionResults). */
  results: { data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] }[];
  /** Errors the server sent for this subscription (an `error` message). */
  failure?: unknown;
  /** Resolves once `count` payloads have arrived in all. */
  waitFor(count: number, timeoutMs?: number): Promise<LiveSubscription<T>['results']>;
  stop(): void;
}

/** A real graphql-ws client against the gateway, with the given connection_init payload. */
export function liveClient(gatewayUrl: string, connectionParams: Record<string, string> = {}): Client & { closed: Promise<{ code: number; reason: string }> } {
  let onClosed: (event: { code: number; reason: string }) => void = () => {};
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (onClosed = resolve));
  const client = createClient({
    url: gatewayUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams,
    lazy: true,
    retryAttempts: 0,
    on: { closed: (event) => onClosed(event as { code: number; reason: string }) },
  });
  return Object.assign(client, { closed });
}

/** `extra` goes into the subscribe payload beside the query (a `documentId`, `extensions`). */
export function subscribe<T = any>(client: Client, query: string, variables: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): LiveSubscription<T> {
  const results: LiveSubscription<T>['results'] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const live: LiveSubscription<T> = {
    results,
    waitFor: (count, timeoutMs = 5_000) =>
      new Promise((resolve, reject) => {
        const check = () => results.length >= count || live.failure !== undefined;
        if (check()) return resolve(results);
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${count} payloads, got ${JSON.stringify(results)}`)), timeoutMs);
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve(results)) });
      }),
    stop: () => undefined,
  };
  const notify = () => {
    for (const waiter of [...waiters]) {
      if (results.length >= waiter.count || live.failure !== undefined) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  live.stop = client.subscribe<T>(
    { query, variables, ...extra },
    {
      next: (result) => {
        results.push(result as LiveSubscription<T>['results'][number]);
        notify();
      },
      error: (error) => {
        live.failure = error;
        notify();
      },
      complete: () => undefined,
    },
  );
  return live;
}
