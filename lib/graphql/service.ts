import type { DocumentNode } from 'graphql';

/** What every subgraph builder returns: nothing listens until `start`. */
export interface SubgraphService {
  readonly name: string;
  /** The subgraph's SDL, as composed into the supergraph. */
  readonly typeDefs: DocumentNode;
  /** Listens on `port` (0 picks a free one) on loopback unless `host` says otherwise; resolves to the URL. */
  start(port: number, host?: string): Promise<string>;
  stop(): Promise<void>;
  /**
   * While started: its GraphQL endpoint called in this process, without a socket (the same
   * server, plugins and signed-context check as over HTTP). Absent or undefined: HTTP only.
   */
  inProcess?(): InProcessEndpoint | undefined;
}

/** A GraphQL POST to a subgraph in this process: the request as HTTP would carry it, the reply as HTTP would bring it. */
export type InProcessEndpoint = (url: string, init: { method: 'POST'; headers: Record<string, string>; body: string }) => Promise<{ status: number; contentType: string | null; text: string }>;

/** Per-request context every resolver receives: the caller as the gateway signed it. */
export type { CallerContext as SubgraphContext } from '../tenant/signed-context.js';
