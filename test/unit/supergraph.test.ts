import { readFileSync } from 'node:fs';
import { CompositionFailed, PARTNER_SCHEMA_PATH, SUPERGRAPH_PATH, composeSupergraph, defaultSubgraphDefinitions } from '../../schema/compose-supergraph.js';
import { buildSchema, isEnumType, isInputObjectType, isObjectType, isSpecifiedScalarType, parse } from 'graphql';

describe('the committed supergraph', () => {
  it('is what the subgraph schemas compose to (run `npm run compose` when this fails)', () => {
    expect(readFileSync(SUPERGRAPH_PATH, 'utf8')).toBe(composeSupergraph(defaultSubgraphDefinitions()));
  });

  it('has a partner contract in which every type, field and enum value is described', () => {
    const partner = buildSchema(readFileSync(PARTNER_SCHEMA_PATH, 'utf8'));
    const undocumented: string[] = [];
    for (const type of Object.values(partner.getTypeMap())) {
      if (type.name.startsWith('__') || isSpecifiedScalarType(type)) continue;
      if (!type.description) undocumented.push(type.name);
      if (isObjectType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) if (!field.description) undocumented.push(`${type.name}.${field.name}`);
      }
      if (isEnumType(type)) for (const value of type.getValues()) if (!value.description) undocumented.push(`${type.name}.${value.name}`);
    }
    expect(undocumented).toEqual([]);
    expect(Object.keys(partner.getTypeMap())).not.toEqual(expect.arrayContaining(['Order']));
    expect(partner.getMutationType()).toBeUndefined();
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
