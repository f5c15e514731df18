import type { EventBus } from '../../../lib/events/event-bus.js';
import { within } from '../../../lib/async/within.js';
import { GATEWAY_CALLER, type SubgraphClient } from '../subgraph-client.js';
import { jsonResponse, useRoute } from './route.js';

/**
 * `GET /healthz` (the process answers) and `GET /readyz`: each subgraph by name, with its own
 * database and bus, and the gateway's bus; 503 when any is not ready. Probes go through the one
 * subgraph client (timeouts, request id, trace headers, `subgraph_fetch_duration_seconds`).
 */
export function useHealth(options: { client: SubgraphClient; subgraphs: readonly string[]; bus?: EventBus }) {
  return useRoute(
    (path) => path === '/healthz' || path === '/readyz',
    async (_request, _context, url) => {
      if (url.pathname === '/healthz') return jsonResponse(200, { status: 'ok' });
      const entries = await Promise.all(options.subgraphs.map(async (name) => [name, await readinessOf(options.client, name)] as const));
      const bus = options.bus ? await within(options.bus.ping(), 1_000).then(() => true, () => false) : undefined;
      const ready = entries.every(([, checks]) => checks.ready) && bus !== false;
      return jsonResponse(ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable', subgraphs: Object.fromEntries(entries), ...(bus === undefined ? {} : { bus }) });
    },
  );
}

/** A subgraph's own /readyz (its database and bus), or, for a subgraph without one, whether it answers GraphQL. */
async function readinessOf(client: SubgraphClient, subgraph: string): Promise<{ ready: boolean } & Record<string, unknown>> {
  try {
    const reply = await client.get(subgraph, '/readyz', { timeoutMs: 3_000 });
    if (reply.status === 200 || reply.status === 503) {
      const { status, ...checks } = JSON.parse(reply.text) as { status: string } & Record<string, unknown>;
      return { ready: status === 'ready', ...checks };
    }
  } catch {
    return { ready: false };
  }
  return { ready: await isReachable(client, subgraph) };
}

/** Whether the subgraph answers `{ __typename }` (asked as the gateway). */
async function isReachable(client: SubgraphClient, subgraph: string): Promise<boolean> {
  try {
    const reply = await client.query(subgraph, { query: '{ __typename }' }, { caller: GATEWAY_CALLER, timeoutMs: 2_000 });
    return Boolean(reply.data) && !reply.errors?.length;
  } catch {
    return false;
  }
}
