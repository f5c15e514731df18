import { loadSubgraphConfig, type SubgraphConfig } from '../../../lib/service-runner.js';

/** PRICING_PORT (or PORT, default 4003), PRICING_DATABASE_URL or DATABASE_URL, REDIS_URL. */
export const loadConfig = (env = process.env): SubgraphConfig => loadSubgraphConfig('pricing', 4003, env);
