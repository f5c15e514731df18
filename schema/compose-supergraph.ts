import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, type DocumentNode } from 'graphql';

import { SUBGRAPHS } from '../lib/subgraphs.js';

/** The subgraphs and their default ports: one list, in lib/subgraphs.ts. */
export { SUBGRAPHS, type SubgraphName } from '../lib/subgraphs.js';

export interface SubgraphDefinition {
  name: string;
  url: string;
  typeDefs: DocumentNode;
}

const root = join(__dirname, '..');

export function readSubgraphSdl(name: string): DocumentNode {
  return parse(readFileSync(join(root, 'subgraphs', name, 'schema.graphql'), 'utf8'));
}

export function defaultSubgraphDefinitions(): SubgraphDefinition[] {
  return SUBGRAPHS.map(({ name, port }) => ({
    name,
    url: `http://localhost:${port}/graphql`,
    typeDefs: readSubgraphSdl(name),
  }));
}

export class CompositionFailed extends Error {
  override name = 'CompositionFailed';
}

/** Composes subgraph SDLs into a supergraph SDL; errors name the subgraph and the reason. */
export function composeSupergraph(subgraphs: SubgraphDefinition[]): string {
  // Loaded when composing only: `npm start` needs SUBGRAPHS, not the composer (~0.1 s to load).
  const { composeServices } = require('@apollo/composition') as typeof import('@apollo/composition');
  const result = composeServices(subgraphs);
  if (result.errors) {
    const lines = result.errors.map((error) => {
      const where = (error.nodes ?? [])
        .map((node) => node.loc?.source?.name)
        .filter((name): name is string => Boolean(name) && name !== 'GraphQL request');
      const code = (error.extensions?.code as string | undefined) ?? 'COMPOSITION_ERROR';
      return `  [${[...new Set(where)].join(', ') || 'supergraph'}] ${code}: ${error.message}`;
    });
    throw new CompositionFailed(`composition failed:\n${lines.join('\n')}`);
  }
  return result.supergraphSdl;
}

export const SUPERGRAPH_PATH = join(root, 'schema', 'supergraph.graphql');

export const PARTNER_SCHEMA_PATH = join(root, 'schema', 'partner.graphql');
