import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { appError } from '../../lib/errors.js';
import type { InProcessEndpoint } from '../../lib/graphql/service.js';
import { metrics } from '../../lib/observability/metrics.js';
import { injectTraceHeaders } from '../../lib/observability/tracing.js';
import { CONTEXT_HEADER, REQUEST_ID_HEADER, routeRequest, signContext, type Role, type SignedRequest } from '../../lib/tenant/signed-context.js';

/**
 * The one way the gateway calls a subgraph: the query planner's fetches, the tenant directory,
 * subscription snapshots, webhook deliveries and feed uploads all go through it. Every call
 * carries the trace headers and a request id, is signed for the caller (when the gateway has the
 * subgraph secret), rides the pooled keep-alive agent (undici), has a timeout, is timed in
 * `subgraph_fetch_duration_seconds`, and a subgraph that cannot be reached becomes one
 * `SERVICE_UNAVAILABLE` error naming the service, never an internal address.
 *
 * Identical queries in flight at the same time may be sent once (`post` with a share key: by
 * subgraph, caller identity and body, so two callers share an answer only when they would get
 * the same one; never mutations). The callers share the reply object too: `callers` says how
 * many (final by the time any of them sees the reply), and `parsed` keeps the one parse of its
 * text that they share (see `SubgraphDataSource.send`).
 */
export interface SubgraphReply {
  status: number;
  statusText: string;
  contentType: string | null;
  text: string;
  /** How many callers share this reply (1 when it was not shared). */
  callers?: number;
  /** The text parsed once for all of them (set by the first that parses it). */
  parsed?: unknown;
}

/** Who a call is made for: what the signed context tells the subgraph. */
export interface Caller {
  tenantId?: string;
  roles: readonly string[];
  storeIds?: readonly string[] | null;
  /** A signed-in customer (role customer). */
  customerId?: string | null;
  /** The request id to forward (default: a new one). */
  requestId?: string;
  /** Who acts, as the audit log names it (see `CallerContext.actor`). */
  actor?: string;
}

export interface GraphQLReply<T> {
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

export interface SubgraphClientOptions {
  /** GraphQL URL of each subgraph, by name. */
  urls?: Record<string, string>;
  /** SUBGRAPH_SECRET: calls are signed with it; absent, nothing is signed (a plain gateway). */
  secret?: string;
  /** Longest wait for a subgraph's headers, and between two chunks of its body (default 30 s). */
  timeoutMs?: number;
  agent?: Agent;
  /**
   * A subgraph served by this very process, by its GraphQL URL (`npm start`, scripts/system.ts):
   * its GraphQL POSTs are handed to its server in this process instead of over a socket, with the
   * same headers (signed context, request id, trace) and the same timeout. Undefined: HTTP.
   */
  inProcess?: (url: string) => InProcessEndpoint | undefined;
}

/** What the gateway itself asks as (the tenant directory, webhook deliveries): the `gateway` role. */
export const GATEWAY_CALLER: Caller = { roles: ['gateway'], actor: 'gateway' };

export class SubgraphClient {
  private readonly inFlight = new Map<string, { callers: number; reply: Promise<SubgraphReply> }>();
  private readonly agent: Agent;
  private readonly timeoutMs: number;

  constructor(private readonly options: SubgraphClientOptions = {}) {
    this.agent = options.agent ?? new Agent({ connections: 128, keepAliveTimeout: 30_000, pipelining: 1 });
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** The subgraph's GraphQL URL; throws SERVICE_UNAVAILABLE for a subgraph the gateway does not know. */
  urlOf(subgraph: string): string {
    const url = this.options.urls?.[subgraph];
    if (!url) throw appError('SERVICE_UNAVAILABLE', `The ${subgraph} service is not configured.`, { service: subgraph });
    return url;
  }

  /** The one mapping of an unreachable subgraph (or one that answered no data) to a client error. */
  unavailable(subgraph: string, message = `The ${subgraph} service is unavailable.`) {
    return appError('SERVICE_UNAVAILABLE', message, { service: subgraph });
  }

  /** The signed-context header for a call bound to `bound` (an operation, or a route), when the gateway signs. */
  sign(caller: Caller, requestId: string, bound: SignedRequest, singleUse = false): Record<string, string> {
    if (!this.options.secret) return {};
    const context = signContext(
      { tenantId: caller.tenantId, roles: caller.roles as Role[], requestId, ...(caller.storeIds ? { storeIds: [...caller.storeIds] } : {}), ...(caller.customerId ? { customerId: caller.customerId } : {}), ...(caller.actor ? { actor: caller.actor } : {}) },
      bound,
      this.options.secret,
      singleUse ? { singleUse: true } : undefined,
    );
    return { [CONTEXT_HEADER]: context };
  }

  /**
   * A GraphQL operation on a subgraph, signed for `caller`. Resolves to the subgraph's answer
   * (data and errors as it sent them); throws SERVICE_UNAVAILABLE (with `unavailableMessage`
   * when given) when the subgraph cannot be reached or answers something that is not GraphQL.
   */
  async query<T = Record<string, unknown>>(
    subgraph: string,
    operation: { query: string; variables?: Record<string, unknown>; operationName?: string },
    options: { caller: Caller; timeoutMs?: number; unavailableMessage?: string },
  ): Promise<GraphQLReply<T>> {
    const requestId = options.caller.requestId ?? randomUUID();
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      [REQUEST_ID_HEADER]: requestId,
      ...this.sign(options.caller, requestId, operation),
    };
    injectTraceHeaders(headers);
    let reply: SubgraphReply;
    try {
      reply = await this.timed(subgraph, this.urlOf(subgraph), headers, JSON.stringify(operation), options.timeoutMs);
    } catch {
      throw this.unavailable(subgraph, options.unavailableMessage);
    }
    try {
      const body = JSON.parse(reply.text) as GraphQLReply<T>;
      if (typeof body === 'object' && body !== null && ('data' in body || 'errors' in body)) return body;
    } catch {
      // not GraphQL: below
    }
    throw this.unavailable(subgraph, options.unavailableMessage);
  }

  /**
   * A body streamed to a route of a subgraph (`path` on its origin), signed for `caller` and
   * bound to that route, good for one use. Resolves to the subgraph's status, content type and
   * body as it streams; throws SERVICE_UNAVAILABLE when the subgraph cannot be reached.
   */
  async stream(
    subgraph: string,
    path: string,
    body: Readable,
    options: { caller: Caller; contentType: string; contentLength?: string; timeoutMs?: number; unavailableMessage?: string },
  ): Promise<{ status: number; contentType: string | null; body: Readable }> {
    const target = new URL(path, this.urlOf(subgraph));
    const requestId = options.caller.requestId ?? randomUUID();
    const headers: Record<string, string> = {
      'content-type': options.contentType,
      [REQUEST_ID_HEADER]: requestId,
      ...(options.contentLength ? { 'content-length': options.contentLength } : {}),
      ...this.sign(options.caller, requestId, routeRequest('POST', target.pathname), true),
    };
    injectTraceHeaders(headers);
    const started = performance.now();
    try {
      const timeout = options.timeoutMs ?? this.timeoutMs;
      const response = await request(target, { method: 'POST', headers, body, dispatcher: this.agent, headersTimeout: timeout, bodyTimeout: timeout });
      metrics.subgraphFetchDuration.observe({ subgraph, outcome: outcomeOf(response.statusCode) }, (performance.now() - started) / 1000);
      return { status: response.statusCode, contentType: single(response.headers['content-type']), body: response.body };
    } catch {
      metrics.subgraphFetchDuration.observe({ subgraph, outcome: 'error' }, (performance.now() - started) / 1000);
      throw this.unavailable(subgraph, options.unavailableMessage);
    }
  }

  /**
   * A plain GET of a route on a subgraph's origin (`path`, as its `/readyz`): unsigned, with a
   * request id and the trace headers, timed like every call. Resolves to the reply; throws
   * SERVICE_UNAVAILABLE when the subgraph cannot be reached in `timeoutMs`.
   */
  async get(subgraph: string, path: string, options: { timeoutMs?: number } = {}): Promise<SubgraphReply> {
    const headers: Record<string, string> = { accept: 'application/json', [REQUEST_ID_HEADER]: randomUUID() };
    injectTraceHeaders(headers);
    try {
      return await this.timed(subgraph, new URL(path, this.urlOf(subgraph)).href, headers, undefined, options.timeoutMs, 'GET');
    } catch {
      throw this.unavailable(subgraph);
    }
  }

  /**
   * One planned fetch, headers as the caller built them (with the request id, signed, or with
   * `sign` to sign them only if this call is the one sent); the trace headers are added here.
   * With a `shareKey`, identical requests in flight are sent once.
   */
  post(subgraph: string, url: string, headers: Record<string, string>, body: string, shareKey: string | null, sign?: () => Record<string, string>): Promise<SubgraphReply> {
    if (shareKey === null) return this.timed(subgraph, url, this.outgoing(headers, sign), body);
    const key = `${url}\n${shareKey}\n${body}`;
    const pending = this.inFlight.get(key);
    if (pending) {
      metrics.subgraphFetchesShared.inc({ subgraph });
      pending.callers++;
      return pending.reply;
    }
    this.outgoing(headers, sign);
    // Callers join only while the key is in the map; it leaves the map in the same step that
    // writes the count on the reply, so every caller reads the final count.
    const entry = { callers: 1, reply: undefined as unknown as Promise<SubgraphReply> };
    entry.reply = this.timed(subgraph, url, headers, body).then(
      (reply) => {
        this.inFlight.delete(key);
        reply.callers = entry.callers;
        return reply;
      },
      (error: unknown) => {
        this.inFlight.delete(key);
        throw error;
      },
    );
    this.inFlight.set(key, entry);
    return entry.reply;
  }

  /** The headers of a call that is sent: signed (when `sign` is given) and with the trace headers. */
  private outgoing(headers: Record<string, string>, sign: (() => Record<string, string>) | undefined): Record<string, string> {
    if (sign) Object.assign(headers, sign());
    injectTraceHeaders(headers);
    return headers;
  }

  private async timed(
    subgraph: string,
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
    timeoutMs = this.timeoutMs,
    method: 'GET' | 'POST' = 'POST',
  ): Promise<SubgraphReply> {
    const started = performance.now();
    let outcome = 'error';
    try {
      const local = body !== undefined && method === 'POST' ? this.options.inProcess?.(url) : undefined;
      if (local) {
        const reply = await within(local(url, { method: 'POST', headers, body: body! }), timeoutMs);
        outcome = outcomeOf(reply.status);
        return { status: reply.status, statusText: '', contentType: reply.contentType, text: reply.text };
      }
      const response = await request(url, { method, headers, body, dispatcher: this.agent, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
      const text = await response.body.text();
      outcome = outcomeOf(response.statusCode);
      return { status: response.statusCode, statusText: '', contentType: single(response.headers['content-type']), text };
    } finally {
      metrics.subgraphFetchDuration.observe({ subgraph, outcome }, (performance.now() - started) / 1000);
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** `reply`, unless `ms` pass first (then a rejection, as undici's timeouts reject). */
function within<T>(reply: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([reply, timeout]).finally(() => clearTimeout(timer));
}

const outcomeOf = (status: number) => (status >= 200 && status < 300 ? 'ok' : `http_${status}`);
const single = (value: string | string[] | undefined) => (Array.isArray(value) ? (value[0] ?? null) : (value ?? null));

/** True when a GraphQL document's operation is a mutation (those are never shared). */
export const isMutation = (query: string | undefined) => query !== undefined && /^\s*mutation\b/.test(query);
