import type { EventBus } from '../../lib/events/event-bus.js';
import type { FlagSnapshot } from '../../lib/flags/definition.js';
import { createFlags, type Flags } from '../../lib/flags/provider.js';
import type { SubgraphClient } from './subgraph-client.js';

/**
 * The gateway's flags: it has no database, so a tenant it has not cached is read from the tenant
 * subgraph (`featureFlagSnapshot`, as the `gateway` role of that tenant), then kept current by the
 * change events like every process's.
 */
export function gatewayFlags(options: { client: SubgraphClient; bus?: EventBus }): Flags {
  return createFlags({
    name: 'gateway',
    bus: options.bus,
    load: async (tenantId) => {
      const reply = await options.client.query<{ featureFlagSnapshot: string }>(
        'tenant',
        { query: 'query GatewayFeatureFlags { featureFlagSnapshot }' },
        { caller: { tenantId, roles: ['gateway'] }, unavailableMessage: 'The tenant service is unavailable: flags cannot be read.' },
      );
      if (!reply.data?.featureFlagSnapshot) throw options.client.unavailable('tenant', reply.errors?.[0]?.message);
      return JSON.parse(reply.data.featureFlagSnapshot) as FlagSnapshot;
    },
  });
}
