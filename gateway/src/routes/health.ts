import type { EventBus } from '../../../lib/events/event-bus.js';
import { within } from '../../../lib/async/within.js';
import { jsonResponse, useRoute } from './route.js';

/**
 * `GET /healthz` (the process answers) and `GET /readyz`: each subgraph by name, with its own
 * database and bus, and the gateway's bus; 503 when any is not ready.
 */
export function useHealth(options: { subgraphUrls: Record<string, string>; bus?: EventBus }) {
  return useRoute(
    (path) => path === '/healthz' || path === '/readyz',
    async (_request, _context, url) => {
      if (url.pathname === '/healthz') return jsonResponse(200, { status: 'ok' });
      const entries = await Promise.all(Object.entries(options.subgraphUrls).map(async ([name, subgraphUrl]) => [name, await readinessOf(subgraphUrl)] as const));
      const bus = options.bus ? await within(options.bus.ping(), 1_000).then(() => true, () => false) : undefined;
      const ready = entries.every(([, checks]) => checks.ready) && bus !== false;
      return jsonResponse(ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable', subgraphs: Object.fromEntries(entries), ...(bus === undefined ? {} : { bus }) });
    },
  );
}

/** A subgraph's own /readyz (its database and bus), or, for a subgraph without one, whether it answers GraphQL. */
async function readinessOf(url: string): Promise<{ ready: boolean } & Record<string, unknown>> {
  try {
    const response = await fetch(new URL('/readyz', url), { signal: AbortSignal.timeout(3_000) });
    if (response.status === 200 || response.status === 503) {
      const { status, ...checks } = (await response.json()) as { status: string } & Record<string, unknown>;
      return { ready: status === 'ready', ...checks };
    }
  } catch {
    return { ready: false };
  }
  return { ready: await isReachable(url) };
}

async function isReachable(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query":"{ __typename }"}',
      signal: AbortSignal.timeout(2_000),
    });
    return response.ok;
  } catch {
    return false;
  }
}
