import { loadSubgraphConfig, type SubgraphConfig } from '../../../lib/service-runner.js';

/** ORDERS_PORT (or PORT, default 4004), ORDERS_DATABASE_URL or DATABASE_URL, REDIS_URL. */
export const loadConfig = (env = process.env): SubgraphConfig => loadSubgraphConfig('orders', 4004, env);
