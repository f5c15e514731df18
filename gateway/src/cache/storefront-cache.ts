import { randomUUID } from 'node:crypto';
import type { Plugin } from '@envelop/core';
import type { DocumentNode, ExecutionResult } from 'graphql';
import type { EventBus } from '../../../lib/events/event-bus.js';
import type { GatewayContext } from '../gateway-context.js';
import type { BusMonitor } from '../subscriptions/bus-monitor.js';

/**
 * A response cache for public storefront reads: the same query with the same variables from an
 * anonymous shopper of the same tenant gets the same answer, so the gateway keeps it — until
 * any change event of that tenant (stock, price, catalog, stores) reaches the gateway, which
 * drops every answer it keeps for the tenant. A cached read is therefore never older than the
 * events say; `ttlMs` bounds it even if an event were lost. Staff and partners (API keys, JWTs)
 * are never served from it: after their own write they must read it back.
 */
export interface StorefrontCacheOptions {
  bus: EventBus;
  /** Longest an answer is kept (default 30 s). */
  ttlMs?: number;
  /** Most answers kept (default 5,000; the oldest go first). */
  maxEntries?: number;
  /** While the bus is down no change event can arrive: nothing is served from the cache or kept. */
  busStatus?: BusMonitor;
}

interface Entry {
  tenantId: string;
  result: ExecutionResult;
  expires: number;
}

/** A whole HTTP answer, served before GraphQL processing for the same request bytes. */
export interface RawAnswer {
  contentType: string;
  body: Buffer;
}

/**
 * Root fields whose answers are a shopper's own (a cart, by its capability id): they change with
 * every cart mutation, which no change event announces, so they are never kept.
 */
const PRIVATE_ROOT_FIELDS = new Set(['cart', 'availableShippingMethods']);

/** Events that can change what a storefront reads; anything else leaves the cache alone. */
const CHANGES = /^(inventory|pricing|catalog|tenant)\./;

export function createStorefrontCache(options: StorefrontCacheOptions) {
  const ttl = options.ttlMs ?? 30_000;
  const max = options.maxEntries ?? 5_000;
  const entries = new Map<string, Entry>();
  const byTenant = new Map<string, Set<string>>();
  const stats = { hits: 0, misses: 0, invalidations: 0 };
  /** Change events seen per tenant: an answer computed across one is not kept. */
  const generations = new Map<string, number>();
  let stopBus: (() => Promise<void>) | undefined;
  let unwatch: (() => void) | undefined;
  /** Bus changes (down, up): an answer computed across one is not kept either. */
  let epoch = 0;
  const usable = () => options.busStatus?.up !== false;

  const drop = (key: string) => {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    byTenant.get(entry.tenantId)?.delete(key);
  };

  const forgetTenant = (tenantId: string) => {
    const keys = byTenant.get(tenantId);
    if (!keys?.size) return;
    stats.invalidations++;
    for (const key of keys) {
      entries.delete(key);
      raw.delete(key);
    }
    byTenant.delete(tenantId);
  };

  /** The cache key of a request that may be served from the cache; null for anything else. */
  const paramsKey = (tenantId: string, params: { query?: string; variables?: unknown; operationName?: string | null } | undefined) =>
    params?.query ? `${tenantId}\n${params.operationName ?? ''}\n${JSON.stringify(params.variables ?? null)}\n${params.query}` : null;
  const keyOf = (context: GatewayContext & { params?: { query?: string; variables?: unknown; operationName?: string } }): string | null => {
    const identity = context.identity;
    if (!identity || identity.kind !== 'anonymous' || !identity.tenant || !identity.roles.includes('storefront')) return null;
    return paramsKey(identity.tenant.id, context.params);
  };
  const raw = new Map<string, { tenantId: string; answer: RawAnswer; expires: number }>();
  const generationOf = (tenantId: string) => (generations.get(tenantId) ?? 0) + epoch;
  const forgetAll = () => {
    epoch += 1;
    entries.clear();
    raw.clear();
    byTenant.clear();
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

  const plugin: Plugin<GatewayContext> = {
    onExecute({ args, setResultAndStopExecution }) {
      const operation = (args.document as DocumentNode).definitions.find(
        (d) => d.kind === 'OperationDefinition' && (!args.operationName || d.name?.value === args.operationName),
      );
      if (!operation || operation.kind !== 'OperationDefinition' || operation.operation !== 'query' || !usable()) return;
      if (operation.selectionSet.selections.some((s) => s.kind !== 'Field' || PRIVATE_ROOT_FIELDS.has(s.name.value))) return;
      const key = keyOf(args.contextValue as never);
      if (key === null) return;
      const hit = entries.get(key);
      if (hit && hit.expires > Date.now()) {
        stats.hits++;
        setResultAndStopExecution(hit.result);
        return;
      }
      if (hit) drop(key);
      stats.misses++;
      const tenantId = (args.contextValue as GatewayContext).identity!.tenant!.id;
      // An event that arrives while this read runs may describe a change the read missed.
      const generation = generationOf(tenantId);
      return {
        onExecuteDone({ result }) {
          if (Symbol.asyncIterator in (result as object)) return;
          const done = result as ExecutionResult;
          if (done.errors?.length || generationOf(tenantId) !== generation || !usable()) return;
          if (entries.size >= max) drop(entries.keys().next().value!);
          entries.set(key, { tenantId, result: done, expires: Date.now() + ttl });
          let keys = byTenant.get(tenantId);
          if (!keys) byTenant.set(tenantId, (keys = new Set()));
          keys.add(key);
        },
      };
    },
  };

  return {
    plugin,
    stats: () => ({ ...stats, entries: entries.size, rawEntries: raw.size }),
    /** The tenant's change count: an answer computed across a change is not kept. */
    generation: generationOf,
    /** The whole answer to these request bytes, when kept. */
    rawAnswer(tenantId: string, requestKey: string): RawAnswer | undefined {
      const key = `raw\n${tenantId}\n${requestKey}`;
      const hit = usable() ? raw.get(key) : undefined;
      if (!hit) return undefined;
      if (hit.expires <= Date.now()) {
        raw.delete(key);
        return undefined;
      }
      stats.hits++;
      return hit.answer;
    },
    /**
     * Keeps the whole answer to these request bytes, if the GraphQL answer for its parameters was
     * kept (a query without errors) and no change of the tenant arrived since `generation`.
     */
    keepRawAnswer(tenantId: string, requestKey: string, params: { query?: string; variables?: unknown; operationName?: string | null }, answer: RawAnswer, generation: number): void {
      const graphqlKey = paramsKey(tenantId, params);
      if (!graphqlKey || !entries.has(graphqlKey) || generationOf(tenantId) !== generation || !usable()) return;
      if (raw.size >= max) raw.delete(raw.keys().next().value!);
      const key = `raw\n${tenantId}\n${requestKey}`;
      raw.set(key, { tenantId, answer, expires: Date.now() + ttl });
      let keys = byTenant.get(tenantId);
      if (!keys) byTenant.set(tenantId, (keys = new Set()));
      keys.add(key);
    },
    async start() {
      stopBus = await listen();
      unwatch = options.busStatus?.onChange((up) => void onBusChange(up).catch(() => undefined));
    },
    async stop() {
      unwatch?.();
      await stopBus?.();
      entries.clear();
      raw.clear();
      byTenant.clear();
    },
  };
}
