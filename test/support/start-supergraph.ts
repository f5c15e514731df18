import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { FREE_PORTS, SUBGRAPHS } from '../../lib/subgraphs.js';
import { graphqlOk, graphqlRequest, type GraphQLResponse } from '../../scripts/graphql-request.js';
import { startSystem, type RunningSystem, type SystemOptions } from '../../scripts/system.js';

export interface TestSupergraph extends RunningSystem {
  /** Sends an operation through the gateway; resolves to the whole response. */
  request<D = Record<string, any>>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<D>>;
  /** The Redis stream of this system's events (when REDIS_URL is set). */
  redisStream: string;
  /** What this system's schemas are named with (`pricing<suffix>`), and its roles (`pricing<suffix>_app`). */
  schemaSuffix: string;
  /** Like `request`, failing on any error. */
  ok<D = Record<string, any>>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<D>;
}


/**
 * Starts the real gateway over the five real subgraphs on free ports, against the run's
 * database (schemas of its own) and bus (Redis when REDIS_URL is set, a stream of its own).
 */
export async function startSupergraph(
  options: Pick<SystemOptions, 'subscriptionLimits' | 'jwt' | 'rateLimitPerMinute' | 'authFailuresPerMinute' | 'trustedProxies' | 'production' | 'operatorToken' | 'subgraphOptions' | 'logger' | 'subgraphLogger' | 'storefrontCache' | 'ports'> & {
    /** A Redis of the test's own (default REDIS_URL, if set). */
    redisUrl?: string;
    /** Variables set for this system over the process's (configuration read as `npm start` reads it; ignored where `subgraphOptions` is given). */
    env?: Record<string, string>;
  } = {},
): Promise<TestSupergraph> {
  const suffix = `_t${randomBytes(4).toString('hex')}`;
  const redisStream = `test:events${suffix}`;
  const { redisUrl, env, ...rest } = options;
  // The system's schemas and roles go with it, on the embedded database too: PGlite is one
  // database for the whole pass, and one that kept every suite's schemas (~540 relations a system)
  // and data made each later suite's migrations slower (the last suites of a pass started 10-28x
  // slower than on PostgreSQL). One round trip for all of them; a start that failed drops them too.
  const dropSchemas = async () => {
    if (!process.env.DATABASE_URL) return;
    const client = new Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    try {
      await client.query(SUBGRAPHS.map(({ name }) => `DROP SCHEMA IF EXISTS "${name}${suffix}" CASCADE; DROP ROLE IF EXISTS "${name}${suffix}_app";`).join(' '));
    } finally {
      await client.end();
    }
  };
  const system = await startSystem({
    ports: FREE_PORTS,
    schemaSuffix: suffix,
    redisStream,
    log: () => {},
    ...(redisUrl || env ? { env: { ...process.env, ...(redisUrl ? { REDIS_URL: redisUrl } : {}), ...env } } : {}),
    ...rest,
  }).catch(async (error: unknown) => {
    await dropSchemas();
    throw error;
  });
  const stop = async () => {
    await system.stop();
    await dropSchemas();
  };
  return {
    ...system,
    stop,
    redisStream,
    schemaSuffix: suffix,
    request: (query, variables, headers) => graphqlRequest(system.gatewayUrl, query, variables, headers),
    ok: (query, variables, headers) => graphqlOk(system.gatewayUrl, query, variables, headers),
  };
}

/** Retries `check` until it stops throwing (events cross services asynchronously on Redis). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
