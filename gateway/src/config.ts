import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, readBool, readInt, readOptional, type Env } from '../../lib/env.js';

export interface GatewayConfig {
  port: number;
  host: string;
  supergraphPath: string;
  /** Overrides of the supergraph's subgraph URLs: `<NAME>_URL`, e.g. `CATALOG_URL`. */
  subgraphUrls: Record<string, string>;
  /** TENANCY (default true): resolve tenants and forward them to subgraphs. */
  tenancy: boolean;
  /** REDIS_URL: the event bus that feeds subscriptions; without it this process serves none. */
  redisUrl: string | undefined;
}

const DEFAULTS = {
  port: 4000,
  host: '127.0.0.1',
  supergraphPath: join(__dirname, '..', '..', 'schema', 'supergraph.graphql'),
};

export function loadConfig(env: Env = process.env): GatewayConfig {
  const subgraphUrls: Record<string, string> = {};
  for (const name of ['catalog', 'inventory', 'pricing', 'orders', 'tenant']) {
    const url = readOptional(env, `${name.toUpperCase()}_URL`);
    if (url) subgraphUrls[name] = url;
  }
  return Object.freeze({
    port: readInt(env, 'PORT', DEFAULTS.port),
    host: readOptional(env, 'HOST') ?? DEFAULTS.host,
    supergraphPath: readOptional(env, 'SUPERGRAPH_PATH') ?? DEFAULTS.supergraphPath,
    subgraphUrls,
    tenancy: readBool(env, 'TENANCY', true),
    redisUrl: readOptional(env, 'REDIS_URL'),
  });
}

export function readSupergraph(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the supergraph at ${path}: ${(error as Error).message}`);
  }
}
