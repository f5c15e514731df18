import { loadSubgraphConfig, type SubgraphConfig } from '../../../lib/service-runner.js';

/** TENANT_PORT (or PORT, default 4005), TENANT_DATABASE_URL or DATABASE_URL, REDIS_URL. */
export const loadConfig = (env = process.env): SubgraphConfig => loadSubgraphConfig('tenant', 4005, env);
