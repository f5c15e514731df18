import { loadSubgraphConfig, type SubgraphConfig } from '../../../lib/service-runner.js';

/** INVENTORY_PORT (or PORT, default 4002), INVENTORY_DATABASE_URL or DATABASE_URL, REDIS_URL. */
export const loadConfig = (env = process.env): SubgraphConfig => loadSubgraphConfig('inventory', 4002, env);
