import { reportGauge } from '../../lib/observability/metrics.js';
import type { createStorefrontCache } from './cache/storefront-cache.js';
import type { createGraphQLWsServer } from './subscriptions/graphql-ws-server.js';
import type { SubscriptionHub } from './subscriptions/subscription-hub.js';

/** The gateway's gauges, read at each scrape; returns what removes them (on stop). */
export function reportGatewayGauges(
  hub: SubscriptionHub | undefined,
  ws: ReturnType<typeof createGraphQLWsServer> | undefined,
  storefrontCache: ReturnType<typeof createStorefrontCache> | undefined,
): (() => void)[] {
  const removers: (() => void)[] = [];
  if (hub) {
    removers.push(
      reportGauge('gateway_subscriptions_open', 'Live subscriptions, over graphql-ws and server-sent events.', [], (set) => set({}, hub.stats().subscribers)),
      reportGauge('gateway_websockets_open', 'Open graphql-ws sockets.', [], (set) => set({}, ws?.connectionCount() ?? 0)),
      reportGauge('gateway_subscription_groups', 'Groups of identical subscriptions (one execution per event each).', [], (set) => set({}, hub.stats().groups)),
    );
  }
  if (storefrontCache) {
    removers.push(
      reportGauge('gateway_storefront_cache', 'Storefront cache: entries and bytes kept, and hits, misses and evictions since start.', ['kind'], (set) => {
        const stats = storefrontCache.stats();
        set({ kind: 'entries' }, stats.entries + stats.rawEntries);
        set({ kind: 'bytes' }, stats.bytes);
        set({ kind: 'hits' }, stats.hits);
        set({ kind: 'misses' }, stats.misses);
        set({ kind: 'evictions' }, stats.evictions);
      }),
    );
  }
  return removers;
}
