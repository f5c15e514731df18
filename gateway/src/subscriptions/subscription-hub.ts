import { randomUUID } from 'node:crypto';
import { GraphQLError, print, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { EventEnvelope } from '../../../lib/events/envelope.js';
import type { EventBus } from '../../../lib/events/event-bus.js';
import { changesOf } from '../../../lib/events/batch-events.js';
import { EventTooNewError, readEvent, refusalLogger } from '../../../lib/events/upcasters.js';
import type { SubgraphClient } from '../subgraph-client.js';
import type { Identity } from '../auth/authenticator.js';
import { CredentialWatch, type CredentialEnd } from '../auth/credential-watch.js';
import { checkScopes, type ScopeRules } from '../auth/scopes.js';
import { sortKeys } from '../../../lib/canonical-json.js';
import { metrics } from '../../../lib/observability/metrics.js';
import type { ErrorCode } from '../../../lib/errors.js';
import type { BusMonitor } from './bus-monitor.js';
import type { SubscriptionField } from './subscription-fields.js';
import type { PreparedSubscription, SubscriptionPlanner } from './subscription-plan.js';

/** Where a group's payloads go: one subscription of one socket (or SSE stream). */
export interface SubscriptionSink {
  /** `json` is the serialised ExecutionResult, the same string for every sink of the group. */
  next(json: string, key: string): void;
}

export interface SubscribeRequest {
  identity: Identity | undefined;
  query: string | DocumentNode;
  variables?: Record<string, unknown>;
  operationName?: string;
}

/** The code of the payload that tells a subscriber its live updates stopped (docs/errors.md). */
export const LIVE_UPDATES_INTERRUPTED: ErrorCode = 'LIVE_UPDATES_INTERRUPTED';

/**
 * Sent to every subscription when the bus stops answering; the subscription stays open, and when
 * the bus answers again the group's fresh snapshot follows (every key's current state).
 */
const INTERRUPTED_JSON = JSON.stringify({
  errors: [
    {
      message: 'Live updates are interrupted: the event bus is unreachable. This subscription stays open; the current state of every key follows when updates resume.',
      extensions: { code: LIVE_UPDATES_INTERRUPTED },
    },
  ],
});
/** The sink key of that payload: never coalesced with a key's data. */
const INTERRUPTED_KEY = '\u0000interrupted';

export interface HubStats {
  groups: number;
  subscribers: number;
  events: number;
  /** Plan executions (each one ran the entity fetches of one payload for a whole group). */
  executions: number;
  /** Fetches those executions sent to subgraphs. */
  subgraphFetches: number;
}

/**
 * Identical subscriptions (tenant, operation, variables) form one group. Per event, a group
 * resolves the payload once through the query plan, serialises it once and hands the same
 * string to each of its sinks. A group keeps the latest payload per key: that is the snapshot a
 * new subscriber receives first, without another execution.
 */
export class SubscriptionHub {
  private readonly groups = new Map<string, Group>();
  private readonly byTopic = new Map<string, Set<Group>>();
  private readonly byEventType = new Map<string, { name: string; spec: SubscriptionField }[]>();
  /** Batch types the fields follow: fanned out into their per-row events. */
  private readonly batchTypes = new Set<string>();
  private stopBus?: () => Promise<void>;
  private readonly counters = { events: 0, executions: 0 };
  /** Set while the bus is down: new subscribers are told after their snapshot. */
  private interrupted = false;
  private unwatch?: () => void;
  /** Ends sockets and streams whose API key is revoked or whose JWT expires. */
  readonly credentials: CredentialWatch;

  constructor(
    private readonly options: {
      planner: SubscriptionPlanner;
      bus: EventBus;
      fields: Record<string, SubscriptionField>;
      /** The gateway's subgraph client: snapshot fetches, signed for the group's identity (only `query` is used). */
      client: Pick<SubgraphClient, 'query'>;
      /** `@requiresScopes` rules, checked on every subscribe. */
      scopes?: { schema: GraphQLSchema; rules: ScopeRules };
      /** Watches the credentials of sockets and streams (default: a watch of its own). */
      credentials?: CredentialWatch;
      /** Other readers of the events the hub's bus subscription receives (the gateway's authentication). */
      observers?: ((event: EventEnvelope) => void)[];
      /** The bus's health: subscribers are told when it goes down and get a fresh snapshot when it returns. */
      busStatus?: BusMonitor;
      /** How envelopes are read (default `readEvent`: this code base's versions and upcasters). */
      read?: (event: EventEnvelope) => EventEnvelope;
      log: (message: string) => void;
    },
  ) {
    this.credentials = options.credentials ?? new CredentialWatch();
    for (const [name, spec] of Object.entries(options.fields)) {
      const list = this.byEventType.get(spec.eventType) ?? [];
      list.push({ name, spec });
      this.byEventType.set(spec.eventType, list);
    }
    for (const { batchEventType } of Object.values(options.fields)) if (batchEventType) this.batchTypes.add(batchEventType);
  }

  async start(): Promise<void> {
    this.stopBus = await this.listen();
    this.unwatch = this.options.busStatus?.onChange((up) => void (up ? this.resume() : this.interrupt()));
  }

  async stop(): Promise<void> {
    this.unwatch?.();
    await this.stopBus?.();
    this.groups.clear();
    this.byTopic.clear();
  }

  /** An ephemeral consumer group of its own (a Redis that restarted empty has lost the previous one). */
  private listen(): Promise<() => Promise<void>> {
    return this.options.bus.subscribe(`gateway-${randomUUID()}`, (event) => this.onEvent(event), { ephemeral: true });
  }

  /** The bus stopped answering: every subscriber learns that live updates are interrupted. */
  private interrupt(): void {
    if (this.interrupted) return;
    this.interrupted = true;
    metrics.liveUpdateInterruptions.inc();
    for (const group of this.groups.values()) for (const sink of group.sinks) sink.next(INTERRUPTED_JSON, INTERRUPTED_KEY);
  }

  /**
   * The bus answers again: listen on a new consumer group (events from now on), then send each
   * group's fresh snapshot, which covers whatever changed while events could not arrive.
   */
  private async resume(): Promise<void> {
    if (!this.interrupted) return;
    const previous = this.stopBus;
    try {
      this.stopBus = await this.listen();
    } catch (error) {
      // The monitor reports the bus down again, and the next recovery tries anew.
      this.log(`subscriptions: cannot listen on the bus again: ${String(error)}`);
      return;
    }
    void previous?.().catch(() => undefined);
    // Down again meanwhile: subscribers stay interrupted, and the next recovery resumes them.
    if (this.options.busStatus?.up === false) return;
    this.interrupted = false;
    for (const group of [...this.groups.values()]) {
      await group.refresh().catch((error: unknown) => this.log(`subscriptions: fresh snapshot failed: ${String(error)}`));
    }
  }

  stats(): HubStats {
    let subscribers = 0;
    for (const group of this.groups.values()) subscribers += group.sinks.size;
    return { groups: this.groups.size, subscribers, ...this.counters, subgraphFetches: this.options.planner.subgraphFetches };
  }

  /** Validates, joins (or creates) the group and delivers the snapshot; throws GraphQLErrors. */
  async subscribe(request: SubscribeRequest, sink: SubscriptionSink): Promise<() => void> {
    const prepared = this.options.planner.prepare(request.query, request.operationName, request.variables);
    const spec = this.options.fields[prepared.field];
    if (!spec) throw new GraphQLError(`Subscription field "${prepared.field}" is not served by this gateway.`, { extensions: { code: 'BAD_USER_INPUT' } });
    const identity = request.identity;
    const tenant = identity?.tenant;
    if (!identity || !tenant) throw new GraphQLError('No tenant for this subscription.', { extensions: { code: 'UNAUTHENTICATED' } });
    if (this.options.scopes) {
      const [denied] = checkScopes(this.options.scopes.schema, this.options.scopes.rules, prepared.document, identity.roles);
      if (denied) throw denied;
    }
    // Roles are part of the key: two callers share a group only if they may see the same.
    const key = JSON.stringify([
      tenant.id,
      [...identity.roles].sort(),
      identity.storeIds ? [...identity.storeIds].sort() : null,
      // A customer sees its own orders only: customers never share a group.
      identity.customerId ?? null,
      print(prepared.document),
      prepared.operationName ?? null,
      sortKeys(prepared.variables),
    ]);
    let group = this.groups.get(key);
    if (!group) {
      group = new Group(key, { ...identity, tenant }, prepared, spec, this);
      this.groups.set(key, group);
      const topic = spec.topic(tenant.id, prepared.args);
      group.topic = topic;
      const set = this.byTopic.get(topic) ?? new Set();
      set.add(group);
      this.byTopic.set(topic, set);
      group.ready = group.loadSnapshot();
    }
    try {
      await group.ready;
    } catch (error) {
      this.drop(group);
      throw error;
    }
    group.join(sink);
    if (this.interrupted) sink.next(INTERRUPTED_JSON, INTERRUPTED_KEY);
    return () => {
      group.sinks.delete(sink);
      if (group.sinks.size === 0) this.drop(group);
    };
  }

  /**
   * The same subscription as an async iterator of results (server-sent events). When the
   * caller's credential is revoked or expires, one last result carries the UNAUTHENTICATED error
   * and the iterator ends (so does the stream).
   */
  iterate(request: SubscribeRequest): AsyncIterableIterator<ExecutionResult> & { ready: Promise<void> } {
    const queue: ExecutionResult[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    let ending = false;
    let unsubscribe: (() => void) | undefined;
    const unwatch = this.credentials.watch(request.identity, (why) => {
      ending = true;
      queue.length = 0;
      queue.push({ errors: [credentialError(why)] });
      unsubscribe?.();
      wake?.();
    });
    const ready = this.subscribe(request, {
      next: (json) => {
        if (ending) return;
        queue.push(JSON.parse(json) as ExecutionResult);
        wake?.();
      },
    }).then((stop) => {
      unsubscribe = stop;
      if (done || ending) stop();
    });
    ready.catch(() => unwatch());
    const finish = async () => {
      done = true;
      unwatch();
      unsubscribe?.();
      wake?.();
      return { done: true as const, value: undefined };
    };
    const iterator: AsyncIterableIterator<ExecutionResult> & { ready: Promise<void> } = {
      ready,
      async next() {
        await ready;
        while (!done && queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        if (done || (ending && queue.length === 0)) return finish();
        const value = queue.shift()!;
        if (ending) void finish();
        return { done: false, value };
      },
      return: finish,
      throw: async (error) => {
        await finish();
        throw error;
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  private drop(group: Group): void {
    if (this.groups.get(group.key) !== group) return;
    this.groups.delete(group.key);
    const set = this.byTopic.get(group.topic);
    set?.delete(group);
    if (set?.size === 0) this.byTopic.delete(group.topic);
  }

  /** Logs each event refused for its version once. */
  private readonly refused = refusalLogger((message) => this.log(`subscriptions: ${message}`));

  /**
   * Payloads and observers see events at the version this gateway knows (lib/events/upcasters.ts).
   * One newer than that is not pushed and not observed, and not retried either: a gateway's group
   * is ephemeral live delivery, and holding it on one event would stop every live update behind
   * it; subscribers get the newer state with the next event or snapshot of its key.
   */
  private async onEvent(received: EventEnvelope): Promise<void> {
    let event: EventEnvelope;
    try {
      event = (this.options.read ?? readEvent)(received);
    } catch (error) {
      if (!(error instanceof EventTooNewError)) throw error;
      this.refused(error);
      return;
    }
    for (const observe of this.options.observers ?? []) observe(event);
    // A batch (decision 0042) reaches subscribers as its per-sku changes, each as its own event.
    if (this.batchTypes.has(event.type)) for (const change of changesOf(event)) this.deliver(change);
    else this.deliver(event);
  }

  private deliver(event: EventEnvelope): void {
    const fields = this.byEventType.get(event.type);
    if (!fields) return;
    this.counters.events += 1;
    for (const { spec } of fields) {
      const groups = this.byTopic.get(spec.eventTopic(event));
      if (!groups) continue;
      for (const group of groups) {
        // The topic names the tenant; check the event's tenant against the group's all the same.
        if (group.identity.tenant.id !== event.tenantId || group.spec !== spec) continue;
        const payload = event.payload as Record<string, unknown>;
        if (spec.matches(payload, group.prepared.args)) group.push(payload);
      }
    }
  }

  /** @internal */
  async run(group: Group, payload: Record<string, unknown>, order: PayloadOrder): Promise<string> {
    this.counters.executions += 1;
    const result = await this.options.planner.execute(group.prepared, payload, { identity: group.identity, requestId: randomUUID() });
    // Last, and in this order: a socket that folds payloads rewrites `previousVersion` at the end.
    return JSON.stringify({ ...result, extensions: { ...result.extensions, version: order.version, previousVersion: order.previousVersion } });
  }

  /** @internal The owning subgraph's current state for a new group; validates the arguments too. */
  async fetchSnapshot(group: Group, always = false): Promise<Record<string, unknown>[]> {
    const { subgraph, field, query, variables } = group.spec.snapshot;
    const wantSnapshot = always || group.prepared.args.snapshot !== false;
    const { identity } = group;
    const body = await this.options.client.query<Record<string, string[]>>(
      subgraph,
      { query, variables: variables(group.prepared.args, wantSnapshot) },
      { caller: { tenantId: identity.tenant?.id, roles: identity.roles, storeIds: identity.storeIds, customerId: identity.customerId } },
    );
    const error = body.errors?.[0];
    if (error) throw new GraphQLError(error.message, { extensions: { code: 'INTERNAL_SERVER_ERROR', ...error.extensions } });
    return (body.data?.[field] ?? []).map((json) => JSON.parse(json) as Record<string, unknown>);
  }

  /** @internal */
  log(message: string): void {
    this.options.log(message);
  }
}

/**
 * Every payload's `extensions`: the key's `version`, and `previousVersion`, the version of the
 * payload sent before it for that key (null on the first). Versions between the two were folded
 * into this payload (the newest state of a key replaces older ones still waiting): a client whose
 * last payload of the key had `previousVersion` lost nothing; any other jump means it missed payloads
 * (a reconnect with `snapshot: false`). README, "Bursts: what a client receives".
 */
export interface PayloadOrder {
  version: number;
  previousVersion: number | null;
}

/** Subscriptions that share tenant, operation and variables: one execution per event for all. */
class Group {
  readonly sinks = new Set<SubscriptionSink>();
  /** Latest serialised payload and version per key, in first-seen order. */
  private readonly latest = new Map<string, { json: string; version: number }>();
  private readonly pending = new Map<string, Record<string, unknown>>();
  private draining = false;
  topic = '';
  ready: Promise<void> = Promise.resolve();

  constructor(
    readonly key: string,
    readonly identity: Identity & { tenant: NonNullable<Identity['tenant']> },
    readonly prepared: PreparedSubscription,
    readonly spec: SubscriptionField,
    private readonly hub: SubscriptionHub,
  ) {}

  async loadSnapshot(): Promise<void> {
    const rows = await this.hub.fetchSnapshot(this);
    // A few at a time: each row's entity fetches go to the other subgraphs.
    for (let i = 0; i < rows.length; i += 8) {
      await Promise.all(rows.slice(i, i + 8).map((row) => this.apply(row)));
    }
  }

  /**
   * After an interruption: every key's current state again, to every sink, whether or not it
   * changed (also with `snapshot: false`: what changed meanwhile is not known otherwise).
   */
  async refresh(): Promise<void> {
    const rows = await this.hub.fetchSnapshot(this, true);
    for (let i = 0; i < rows.length; i += 8) {
      await Promise.all(
        rows.slice(i, i + 8).map(async (row) => {
          const key = this.spec.key(row);
          const version = this.spec.version(row);
          const json = await this.hub.run(this, row, { version, previousVersion: this.latest.get(key)?.version ?? null });
          const now = this.latest.get(key);
          // A live event already delivered a later version of this key.
          if (now && now.version > version) return;
          this.latest.set(key, { json, version });
          for (const sink of this.sinks) sink.next(json, key);
        }),
      );
    }
  }

  /** A new sink gets the current state of every key first, then every change. */
  join(sink: SubscriptionSink): void {
    if (this.prepared.args.snapshot !== false) for (const [key, { json }] of this.latest) sink.next(json, key);
    this.sinks.add(sink);
  }

  push(payload: Record<string, unknown>): void {
    // While a payload is being resolved, later ones for the same key replace each other.
    this.pending.set(this.spec.key(payload), payload);
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      await this.ready.catch(() => undefined);
      for (const [key, payload] of this.pending) {
        this.pending.delete(key);
        const json = await this.apply(payload);
        if (json !== undefined) for (const sink of this.sinks) sink.next(json, key);
      }
    } catch (error) {
      this.hub.log(`subscription group failed: ${String(error)}`);
    } finally {
      this.draining = false;
    }
  }

  /** Resolves a payload unless the group already has this version (or a later one) of its key. */
  private async apply(payload: Record<string, unknown>): Promise<string | undefined> {
    const key = this.spec.key(payload);
    const version = this.spec.version(payload);
    const seen = this.latest.get(key);
    if (seen && seen.version >= version) return undefined;
    const json = await this.hub.run(this, payload, { version, previousVersion: seen?.version ?? null });
    const now = this.latest.get(key);
    if (now && now.version >= version) return undefined;
    this.latest.set(key, { json, version });
    return json;
  }
}

/** What a connection whose credential stopped being valid is told last. */
export function credentialError(why: CredentialEnd): GraphQLError {
  return new GraphQLError(why === 'revoked' ? 'The API key was revoked.' : 'The token expired.', { extensions: { code: 'UNAUTHENTICATED' } });
}
