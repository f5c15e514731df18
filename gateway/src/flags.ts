import type { FlagSnapshot } from '../../lib/flags/definition.js';
import { createFlags, type Flags } from '../../lib/flags/provider.js';
import type { SubgraphClient } from './subgraph-client.js';

/**
 * The gateway's flags: it has no database, so a tenant it has not cached is read from the tenant
 * subgraph (`featureFlagSnapshot`, as the `gateway` role of that tenant). The change events reach
 * its cache through the subscription hub's one bus subscription (`flagChangesTo`, an observer), as
 * revocations do; without a bus, a tenant is read again after the cache's 60 s.
 */
export function gatewayFlags(options: { client: SubgraphClient }): Flags {
  return createFlags({
    name: 'gateway',
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
