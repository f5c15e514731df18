import type { DocumentNode } from 'graphql';

/** What every subgraph builder returns: nothing listens until `start`. */
export interface SubgraphService {
  readonly name: string;
  /** The subgraph's SDL, as composed into the supergraph. */
  readonly typeDefs: DocumentNode;
  /** Listens on `port` (0 picks a free one) on loopback unless `host` says otherwise; resolves to the URL. */
  start(port: number, host?: string): Promise<string>;
  stop(): Promise<void>;
}

/** Per-request context every resolver receives: the caller as the gateway signed it. */
export type { CallerContext as SubgraphContext } from '../tenant/signed-context.js';
