import { Agent, request } from 'undici';
import { metrics } from '../../lib/observability/metrics.js';

/**
 * How the gateway talks to subgraphs: a pooled keep-alive HTTP client (undici) instead of
 * Apollo's default stack, and identical queries in flight at the same time sent once — keyed by
 * subgraph, caller identity and body, so two callers share an answer only when they would get
 * the same one. Mutations are never shared. Each caller gets its own copy (the text, parsed
 * again), so no caller can change another's result.
 */
export interface SubgraphReply {
  status: number;
  statusText: string;
  contentType: string | null;
  text: string;
}

export class SubgraphClient {
  private readonly inFlight = new Map<string, Promise<SubgraphReply>>();

  constructor(private readonly agent = new Agent({ connections: 128, keepAliveTimeout: 30_000, pipelining: 1 })) {}

  post(subgraph: string, url: string, headers: Record<string, string>, body: string, shareKey: string | null): Promise<SubgraphReply> {
    if (shareKey === null) return this.timed(subgraph, url, headers, body);
    const key = `${url}\n${shareKey}\n${body}`;
    const pending = this.inFlight.get(key);
    if (pending) {
      metrics.subgraphFetchesShared.inc({ subgraph });
      return pending;
    }
    const sent = this.timed(subgraph, url, headers, body).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, sent);
    return sent;
  }

  private async timed(subgraph: string, url: string, headers: Record<string, string>, body: string): Promise<SubgraphReply> {
    const started = performance.now();
    let outcome = 'error';
    try {
      const reply = await this.send(url, headers, body);
      outcome = reply.status >= 200 && reply.status < 300 ? 'ok' : `http_${reply.status}`;
      return reply;
    } finally {
      metrics.subgraphFetchDuration.observe({ subgraph, outcome }, (performance.now() - started) / 1000);
    }
  }

  private async send(url: string, headers: Record<string, string>, body: string): Promise<SubgraphReply> {
    const response = await request(url, { method: 'POST', headers, body, dispatcher: this.agent });
    const text = await response.body.text();
    const contentType = response.headers['content-type'];
    return {
      status: response.statusCode,
      statusText: '',
      contentType: Array.isArray(contentType) ? (contentType[0] ?? null) : (contentType ?? null),
      text,
    };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** True when a GraphQL document's operation is a mutation (those are never shared). */
export const isMutation = (query: string | undefined) => query !== undefined && /^\s*mutation\b/.test(query);
