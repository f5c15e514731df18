import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { DocumentNode, ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { EventBus } from '../../../lib/events/event-bus.js';
import type { Logger } from '../../../lib/observability/logger.js';
import type { AuthFailureLimit } from '../auth/auth-failure-limit.js';
import type { ClientAddressOf } from '../auth/client-address.js';
import type { GatewayContext } from '../gateway-context.js';
import type { RateLimitStore } from '../limits/rate-limiter.js';
import type { BusMonitor } from '../subscriptions/bus-monitor.js';

/**
 * A response cache for public storefront reads: the same query with the same variables from an
 * anonymous shopper of the same tenant gets the same answer, so the gateway keeps it — until
 * any change event of that tenant (stock, price, catalog, stores) reaches the gateway, which
 * drops every answer it keeps for the tenant. A cached read is therefore never older than the
 * events say; `ttlMs` bounds it even if an event were lost. Staff and partners (API keys, JWTs)
 * are never served from it: after their own write they must read it back.
 *
 * One plugin, two levels: an answer is kept by its GraphQL parameters (served at execution, after
 * authentication), and, for a plain JSON POST without credentials, also as the whole HTTP answer
 * to those exact request bytes, served in `onRequest` before any parsing or tenant lookup (the
 * anonymous rate limit still counts it). A miss goes through the pipeline once, authenticated
 * once. Everything kept is bounded in bytes (`maxBytes`, STOREFRONT_CACHE_MAX_BYTES): the oldest
 * answers go first.
 */
export interface StorefrontCacheOptions {
  bus: EventBus;
  /** Longest an answer is kept (default 30 s). */
  ttlMs?: number;
  /** Most bytes kept, answers and their keys (default 64 MiB; the oldest go first). */
  maxBytes?: number;
  /** While the bus is down no change event can arrive: nothing is served from the cache or kept. */
  busStatus?: BusMonitor;
  /** What a request-bytes hit still passes: the failed-authentication block and the anonymous rate limit. */
  limits?: { authenticator: AuthFailureLimit; store: RateLimitStore; perMinute: number; clientAddress: ClientAddressOf };
  /** A request line per request-bytes hit (the pipeline logs the others). */
  logger?: Logger;
}

export const DEFAULT_STOREFRONT_CACHE_BYTES = 64 * 1024 * 1024;

/** Largest request body looked up by its bytes. */
const MAX_KEY_BODY = 65_536;

interface Entry {
  tenantId: string;
  /** For the request log of a request-bytes hit. */
  tenantSlug?: string;
  expires: number;
  bytes: number;
  result?: ExecutionResult;
  raw?: { contentType: string; body: Uint8Array<ArrayBuffer> };
}

/** What one request did at execution: whether its answer was kept, under which key. */
interface Pending {
  rawKey: string;
  executions: number;
  kept?: { tenantId: string; tenantSlug: string; queryKey: string; generation: number };
}

/**
 * Root fields whose answers are a shopper's own (a cart, by its capability id): they change with
 * every cart mutation, which no change event announces, so they are never kept. A `quote` is one
 * shopper's too: it carries an id and a token to be charged by, and the counts of limited
 * promotions, which claims move without an event; two shoppers must never share one.
 */
const PRIVATE_ROOT_FIELDS = new Set(['cart', 'availableShippingMethods', 'quote']);

/** Events that can change what a storefront reads; anything else leaves the cache alone. */
const CHANGES = /^(inventory|pricing|catalog|tenant)\./;

export function createStorefrontCache(options: StorefrontCacheOptions) {
  const ttl = options.ttlMs ?? 30_000;
  const maxBytes = options.maxBytes ?? DEFAULT_STOREFRONT_CACHE_BYTES;
  /** Insertion order is age: eviction takes from the front. */
  const entries = new Map<string, Entry>();
  const byTenant = new Map<string, Set<string>>();
  const stats = { hits: 0, misses: 0, invalidations: 0, evictions: 0 };
  let bytes = 0;
  /** Change events seen per tenant: an answer computed across one is not kept. */
  const generations = new Map<string, number>();
  const pending = new WeakMap<Request, Pending>();
  let stopBus: (() => Promise<void>) | undefined;
  let unwatch: (() => void) | undefined;
  /** Bus changes (down, up): an answer computed across one is not kept either. */
  let epoch = 0;
  const usable = () => options.busStatus?.up !== false;
  const generationOf = (tenantId: string) => (generations.get(tenantId) ?? 0) + epoch;

  const drop = (key: string) => {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    bytes -= entry.bytes;
    byTenant.get(entry.tenantId)?.delete(key);
  };
  const keep = (key: string, entry: Entry) => {
    if (entry.bytes > maxBytes) return;
    drop(key);
    while (bytes + entry.bytes > maxBytes && entries.size > 0) {
      drop(entries.keys().next().value!);
      stats.evictions++;
    }
    entries.set(key, entry);
    bytes += entry.bytes;
    let keys = byTenant.get(entry.tenantId);
    if (!keys) byTenant.set(entry.tenantId, (keys = new Set()));
    keys.add(key);
  };
  const live = (key: string): Entry | undefined => {
    const entry = usable() ? entries.get(key) : undefined;
    if (entry && entry.expires <= Date.now()) {
      drop(key);
      return undefined;
    }
    return entry;
  };
  const forgetTenant = (tenantId: string) => {
    const keys = byTenant.get(tenantId);
    if (!keys?.size) return;
    stats.invalidations++;
    for (const key of [...keys]) drop(key);
    byTenant.delete(tenantId);
  };
  const forgetAll = () => {
    epoch += 1;
    entries.clear();
    byTenant.clear();
    bytes = 0;
  };

  const listen = () =>
    options.bus.subscribe(
      `gateway-cache-${randomUUID()}`,
      async (event) => {
        if (!CHANGES.test(event.type)) return;
        generations.set(event.tenantId, (generations.get(event.tenantId) ?? 0) + 1);
        forgetTenant(event.tenantId);
      },
      { ephemeral: true },
    );
  /** Down: forget everything (changes can no longer arrive). Up: listen on a new group (a restarted Redis lost the old one), and forget again. */
  const onBusChange = async (up: boolean) => {
    forgetAll();
    if (!up) return;
    const previous = stopBus;
    stopBus = await listen();
    forgetAll();
    void previous?.().catch(() => undefined);
  };

  /** The request-bytes key of a plain JSON POST without credentials (its tenant comes from x-tenant-id or the host); null for anything else. */
  const rawKeyOf = (request: Request, path: string): string | null => {
    const h = request.headers;
    const length = Number(h.get('content-length'));
    if (request.method !== 'POST' || path !== '/graphql' || !(length > 0 && length <= MAX_KEY_BODY)) return null;
    if (h.has('authorization') || h.has('x-api-key') || h.has('origin') || h.has('upgrade') || !h.get('content-type')?.startsWith('application/json')) return null;
    const accept = h.get('accept') ?? '';
    if (accept.includes('text/event-stream') || accept.includes('multipart')) return null;
    return `raw\n${h.get('x-tenant-id') ?? ''}\n${h.get('host') ?? ''}\n${accept}\n`;
  };

  const queryKeyOf = (context: GatewayContext & { params?: { query?: string; variables?: unknown; operationName?: string } }): string | null => {
    const identity = context.identity;
    if (!identity || identity.kind !== 'anonymous' || !identity.tenant || !identity.roles.includes('storefront') || !context.params?.query) return null;
    const { params } = context;
    return `query\n${identity.tenant.id}\n${params.operationName ?? ''}\n${JSON.stringify(params.variables ?? null)}\n${params.query}`;
  };

  /** A whole answer served before GraphQL processing: the limits an anonymous request passes still apply. */
  const admitted = async (serverContext: { req?: IncomingMessage }): Promise<boolean> => {
    const limits = options.limits;
    if (!limits) return true;
    const address = limits.clientAddress(serverContext.req);
    // A refused address goes on to the pipeline, which answers 429 without a lookup.
    if (await limits.authenticator.blockedFor(address)) return false;
    const { count } = await limits.store.hit(`ip:${address}`);
    return count <= limits.perMinute;
  };

  const plugin: Plugin<GatewayContext, { req?: IncomingMessage }> = {
    async onRequest({ request, url, serverContext, setRequest, endResponse, fetchAPI }) {
      const prefix = usable() ? rawKeyOf(request, url.pathname) : null;
      if (prefix === null) return;
      const body = await request.text();
      const rawKey = prefix + body;
      const hit = live(rawKey);
      if (hit?.raw && (await admitted(serverContext))) {
        stats.hits++;
        const started = performance.now();
        endResponse(new fetchAPI.Response(hit.raw.body, { status: 200, headers: { 'content-type': hit.raw.contentType, 'content-length': String(hit.raw.body.length) } }));
        options.logger?.info(
          { requestId: request.headers.get('x-request-id') ?? randomUUID(), tenant: hit.tenantSlug, roles: ['storefront'], durationMs: Math.round((performance.now() - started) * 100) / 100, code: 'OK', cached: true },
          'graphql operation',
        );
        return;
      }
      // On to the pipeline with the body already read; its answer may be kept by these bytes.
      const forwarded = new fetchAPI.Request(request.url, { method: 'POST', headers: request.headers, body });
      pending.set(forwarded, { rawKey, executions: 0 });
      setRequest(forwarded);
    },
    onExecute({ args, setResultAndStopExecution }) {
      const context = args.contextValue as GatewayContext;
      const state = pending.get(context.request);
      if (state) state.executions++;
      const operation = (args.document as DocumentNode).definitions.find(
        (d) => d.kind === 'OperationDefinition' && (!args.operationName || d.name?.value === args.operationName),
      );
      if (!operation || operation.kind !== 'OperationDefinition' || operation.operation !== 'query' || !usable()) return;
      if (operation.selectionSet.selections.some((s) => s.kind !== 'Field' || PRIVATE_ROOT_FIELDS.has(s.name.value))) return;
      const queryKey = queryKeyOf(context as never);
      if (queryKey === null) return;
      const hit = live(queryKey);
      if (hit?.result) {
        stats.hits++;
        setResultAndStopExecution(hit.result);
        return;
      }
      stats.misses++;
      const { id: tenantId, slug: tenantSlug } = context.identity!.tenant!;
      // An event that arrives while this read runs may describe a change the read missed.
      const generation = generationOf(tenantId);
      return {
        onExecuteDone({ result }) {
          if (Symbol.asyncIterator in (result as object)) return;
          const done = result as ExecutionResult;
          if (done.errors?.length || generationOf(tenantId) !== generation || !usable()) return;
          // A parsed answer holds ~1.8x its JSON on the heap (measured on a 50-product page): counted as twice.
          keep(queryKey, { tenantId, result: done, expires: Date.now() + ttl, bytes: queryKey.length + 2 * JSON.stringify(done).length });
          if (state) state.kept = { tenantId, tenantSlug, queryKey, generation };
        },
      };
    },
    async onResponse({ request, response, setResponse, fetchAPI }) {
      const state = pending.get(request);
      const kept = state?.kept;
      // One operation, kept at execution, nothing of its tenant changed since: keep the whole answer.
      if (!state || !kept || state.executions !== 1 || response.status !== 200 || !entries.has(kept.queryKey)) return;
      const contentType = response.headers.get('content-type');
      if (!contentType || generationOf(kept.tenantId) !== kept.generation || !usable()) return;
      const body = new Uint8Array(await response.arrayBuffer());
      setResponse(new fetchAPI.Response(body, { status: response.status, headers: response.headers }));
      keep(state.rawKey, { tenantId: kept.tenantId, tenantSlug: kept.tenantSlug, raw: { contentType, body }, expires: Date.now() + ttl, bytes: state.rawKey.length + body.length });
    },
  };

  return {
    plugin,
    stats: () => {
      let raw = 0;
      for (const entry of entries.values()) if (entry.raw) raw++;
      return { ...stats, entries: entries.size - raw, rawEntries: raw, bytes, maxBytes };
    },
    async start() {
      stopBus = await listen();
      unwatch = options.busStatus?.onChange((up) => void onBusChange(up).catch(() => undefined));
    },
    async stop() {
      unwatch?.();
      await stopBus?.();
      forgetAll();
    },
  };
}
