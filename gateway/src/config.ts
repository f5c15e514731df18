import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, readBool, readInt, readOptional, readSecret, type Env } from '../../lib/env.js';
import { readSubgraphSecret } from '../../lib/service-runner.js';
import type { JwtOptions } from './auth/jwt-verifier.js';
import { trustedProxyList } from './auth/client-address.js';
import { SUBGRAPHS } from '../../lib/subgraphs.js';
import { DEFAULT_STOREFRONT_CACHE_BYTES } from './cache/storefront-cache.js';
import { DEFAULT_EXECUTOR, type ExecutorKind } from './executor/own-executor.js';

export interface GatewayConfig {
  port: number;
  host: string;
  supergraphPath: string;
  /** Overrides of the supergraph's subgraph URLs: `<NAME>_URL`, e.g. `CATALOG_URL`. */
  subgraphUrls: Record<string, string>;
  /** TENANCY (default true): identity, tenants and roles; false leaves a plain federation gateway. */
  tenancy: boolean;
  /** SUBGRAPH_SECRET: signs the caller's context for subgraphs (required; in production 32+ characters, no published example). */
  subgraphSecret: string;
  /** PLATFORM_API_KEY: the platform role's credential; generated (and printed) in development; in production required, 32+ characters, no published example. */
  platformApiKey: string | undefined;
  /** JWT_SECRET (HS256), JWT_PUBLIC_KEY (PEM, RS256/ES256), JWT_JWKS_FILE, JWT_ISSUER, JWT_AUDIENCE. */
  jwt: JwtOptions | undefined;
  /** Introspection without credentials: on unless NODE_ENV=production. */
  anonymousIntrospection: boolean;
  /** Requests per minute; counted in Redis when REDIS_URL is set (locally while it does not answer). */
  rateLimitPerMinute: { authenticated: number; anonymous: number };
  /** AUTH_FAILURES_PER_MINUTE (default 30): failed authentications per client address before 429. */
  authFailuresPerMinute: number;
  /** TRUSTED_PROXIES: addresses and CIDRs whose X-Forwarded-For / Forwarded name the client (default none). */
  trustedProxies: string[];
  production: boolean;
  /** OPERATOR_TOKEN: the bearer token of /metrics, /debug/* and GraphiQL; without it they are open in development, off in production. */
  operatorToken: string | undefined;
  /** REDIS_URL: the event bus that feeds subscriptions; without it this process serves none. */
  redisUrl: string | undefined;
  /** STOREFRONT_CACHE (default on): anonymous storefront answers kept until a change event of their tenant; STOREFRONT_CACHE_MAX_BYTES bounds it. */
  storefrontCache: false | { maxBytes: number };
}

const DEFAULTS = {
  port: 4000,
  host: '127.0.0.1',
  supergraphPath: join(__dirname, '..', '..', 'schema', 'supergraph.graphql'),
};

export function loadConfig(env: Env = process.env): GatewayConfig {
  const subgraphUrls: Record<string, string> = {};
  for (const { name } of SUBGRAPHS) {
    const url = readOptional(env, `${name.toUpperCase()}_URL`);
    if (url) subgraphUrls[name] = url;
  }
  const production = env.NODE_ENV === 'production';
  const tenancy = readBool(env, 'TENANCY', true);
  return Object.freeze({
    port: readInt(env, 'PORT', DEFAULTS.port),
    host: readOptional(env, 'HOST') ?? DEFAULTS.host,
    supergraphPath: readOptional(env, 'SUPERGRAPH_PATH') ?? DEFAULTS.supergraphPath,
    subgraphUrls,
    tenancy,
    // A plain federation gateway (TENANCY=false) signs nothing and has no platform.
    subgraphSecret: tenancy ? readSubgraphSecret(env) : '',
    platformApiKey: tenancy ? readSecret(env, 'PLATFORM_API_KEY', { production, required: true }) : undefined,
    jwt: readJwtOptions(env),
    anonymousIntrospection: env.NODE_ENV !== 'production',
    redisUrl: readOptional(env, 'REDIS_URL'),
    rateLimitPerMinute: readRateLimits(env),
    authFailuresPerMinute: readAuthFailuresPerMinute(env),
    trustedProxies: readTrustedProxies(env),
    production,
    storefrontCache: readStorefrontCache(env),
    operatorToken: readOptional(env, 'OPERATOR_TOKEN'),
  });
}

export function readSupergraph(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the supergraph at ${path}: ${(error as Error).message}`);
  }
}

/** JWT verification settings from the environment; undefined when no key is configured. */
export function readJwtOptions(env: Env): JwtOptions | undefined {
  const options: JwtOptions = {
    // In production a JWT_SECRET, when set, must be long and not a published example.
    secret: readSecret(env, 'JWT_SECRET', { production: env.NODE_ENV === 'production', required: false }),
    publicKeyPem: readOptional(env, 'JWT_PUBLIC_KEY'),
    jwksFile: readOptional(env, 'JWT_JWKS_FILE'),
    issuer: readOptional(env, 'JWT_ISSUER'),
    audience: readOptional(env, 'JWT_AUDIENCE'),
  };
  return options.secret || options.publicKeyPem || options.jwksFile ? options : undefined;
}

/** RATE_LIMIT_PER_MINUTE (per API key or token, default 1200) and RATE_LIMIT_ANONYMOUS_PER_MINUTE (per client, default 300). */
export function readRateLimits(env: Env): { authenticated: number; anonymous: number } {
  return {
    authenticated: readInt(env, 'RATE_LIMIT_PER_MINUTE', 1200),
    anonymous: readInt(env, 'RATE_LIMIT_ANONYMOUS_PER_MINUTE', 300),
  };
}

/** AUTH_FAILURES_PER_MINUTE: failed authentications a minute per client address before 429 (default 30). */
export function readAuthFailuresPerMinute(env: Env): number {
  return readInt(env, 'AUTH_FAILURES_PER_MINUTE', 30);
}

/** STOREFRONT_CACHE (`off` disables it) and STOREFRONT_CACHE_MAX_BYTES (default 64 MiB): for `npm start` and `npm run start:gateway` alike. */
export function readStorefrontCache(env: Env): false | { maxBytes: number } {
  if (!readBool(env, 'STOREFRONT_CACHE', true)) return false;
  const maxBytes = readInt(env, 'STOREFRONT_CACHE_MAX_BYTES', DEFAULT_STOREFRONT_CACHE_BYTES);
  if (maxBytes < 1024 * 1024) throw new ConfigError(`STOREFRONT_CACHE_MAX_BYTES must be at least 1048576 (1 MiB), got ${maxBytes}; STOREFRONT_CACHE=off turns the cache off`);
  return { maxBytes };
}

/** TRUSTED_PROXIES: comma-separated addresses and CIDRs (e.g. `10.0.0.0/8,::1`); default none. */
export function readTrustedProxies(env: Env): string[] {
  const entries = (readOptional(env, 'TRUSTED_PROXIES') ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  try {
    trustedProxyList(entries);
  } catch (error) {
    throw new ConfigError(`TRUSTED_PROXIES: ${(error as Error).message}`);
  }
  return entries;
}

/** GATEWAY_EXECUTOR: which executor runs query plans, `own` (ours) or `apollo` (Apollo's executeQueryPlan); default `own`. */
export function readExecutor(env: Env): ExecutorKind {
  const value = readOptional(env, 'GATEWAY_EXECUTOR') ?? DEFAULT_EXECUTOR;
  if (value !== 'own' && value !== 'apollo') throw new ConfigError(`GATEWAY_EXECUTOR must be own or apollo, got ${value}`);
  return value;
}

/** SUBGRAPH_CALLS (default `in-process`): how a one-process system's gateway calls its own subgraphs (`npm start`; scripts/system.ts). */
export function readSubgraphCalls(env: Env): 'in-process' | 'http' {
  const value = readOptional(env, 'SUBGRAPH_CALLS') ?? 'in-process';
  if (value !== 'in-process' && value !== 'http') throw new ConfigError(`SUBGRAPH_CALLS must be in-process or http, got ${value}`);
  return value;
}
