import { graphqlOk } from '../scripts/graphql-request.js';
import { startSystem, type RunningSystem } from '../scripts/system.js';
import { cleanUpBench } from './clean-up.js';

/**
 * A whole system on free ports, its own schemas and event stream and no rate limits: what the
 * benches that write measure on. Its `stop` also drops the schemas and the stream on shared servers.
 */
export async function startBenchSystem(): Promise<RunningSystem> {
  const suffix = `_bench${process.pid}`;
  const stream = `bench:events:${process.pid}`;
  const system = await startSystem({
    ports: { gateway: 0, catalog: 0, inventory: 0, pricing: 0, orders: 0, tenant: 0 },
    schemaSuffix: suffix,
    redisStream: stream,
    rateLimitPerMinute: { authenticated: 1e9, anonymous: 1e9 },
    log: () => {},
  });
  return {
    ...system,
    stop: async () => {
      await system.stop();
      await cleanUpBench(suffix, stream);
    },
  };
}

/** A fresh tenant with one store (`S1`) and an admin key, made through the gateway with the platform key. */
export async function benchTenant(system: Pick<RunningSystem, 'gatewayUrl' | 'platformApiKey'>) {
  const platform = { authorization: `Bearer ${system.platformApiKey}` };
  const ok = <D = any>(query: string, variables: Record<string, unknown>, headers: Record<string, string>) => graphqlOk<D>(system.gatewayUrl, query, variables, headers);
  const slug = `bench-${process.pid}`;
  const { createTenant } = await ok('mutation ($input: CreateTenantInput!) { createTenant(input: $input) { id } }', { input: { slug, name: 'Bench', domains: [`${slug}.test`] } }, platform);
  const tenantId: string = createTenant.id;
  const { createStore } = await ok('mutation ($input: CreateStoreInput!) { createStore(input: $input) { id } }', { input: { tenantId, code: 'S1', name: 'Bench store', kind: 'STORE' } }, platform);
  const storeId: string = createStore.id;
  const { createApiKey } = await ok('mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }', { input: { name: 'bench', role: 'ADMIN', tenantId } }, platform);
  return { ok, slug, tenantId, storeId, admin: { authorization: `Bearer ${createApiKey.key}` } };
}
