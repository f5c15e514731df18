import { loadSubgraphConfig, type SubgraphConfig } from '../../../lib/service-runner.js';

/** CATALOG_PORT (or PORT, default 4001), CATALOG_DATABASE_URL or DATABASE_URL, REDIS_URL. */
export const loadConfig = (env = process.env): SubgraphConfig => loadSubgraphConfig('catalog', 4001, env);
