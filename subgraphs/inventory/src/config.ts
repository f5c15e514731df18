import { readInt, type Env } from '../../../lib/env.js';
import { loadSubgraphConfig, type SubgraphConfig } from '../../../lib/service-runner.js';

/** INVENTORY_PORT (or PORT, default 4002), INVENTORY_DATABASE_URL or DATABASE_URL, REDIS_URL. */
export const loadConfig = (env = process.env): SubgraphConfig => loadSubgraphConfig('inventory', 4002, env);

/** WEBHOOK_MAX_AGE_HOURS (default 24; 0 turns the window off): deliveries of a state older than this are refused. */
export const readWebhookMaxAgeMs = (env: Env = process.env): number => readInt(env, 'WEBHOOK_MAX_AGE_HOURS', 24) * 3_600_000;
