import { readFileSync } from 'node:fs';
import { CompositionFailed, SUPERGRAPH_PATH, composeSupergraph, defaultSubgraphDefinitions } from '../../schema/compose-supergraph.js';
import { parse } from 'graphql';

describe('the committed supergraph', () => {
  it('is what the subgraph schemas compose to (run `npm run compose` when this fails)', () => {
    expect(readFileSync(SUPERGRAPH_PATH, 'utf8')).toBe(composeSupergraph(defaultSubgraphDefinitions()));
  });

  it('reports a composition error with the subgraph and the reason', () => {
    const subgraphs = defaultSubgraphDefinitions();
    const broken = subgraphs.map((s) =>
      s.name === 'pricing'
        ? { ...s, typeDefs: parse(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
            type Variant @key(fields: "sku") { sku: ID! title: Int }`) }
        : s,
    );
    expect(() => composeSupergraph(broken)).toThrow(CompositionFailed);
    expect(() => composeSupergraph(broken)).toThrow(/title/);
  });
});
