import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { Supergraph } from '@apollo/federation-internals';
import {
  getNamedType,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  parse,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';
import { buildGateway, type Gateway } from '../../gateway/src/app.js';
import { extractScopes } from '../../gateway/src/auth/scopes.js';
import { SUPERGRAPH_PATH } from '../../schema/compose-supergraph.js';
import { BENCH_SUBGRAPHS, startBenchSubgraphs, type BenchSubgraphs } from '../../bench/gateway/subgraphs.js';
import { addProduct, createShop, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';
import { seededRandom } from '../support/seeded-random.js';

/**
 * Our executor (GATEWAY_EXECUTOR=own) must answer every query exactly as Apollo's executor does
 * over the same subgraphs: data, and errors (message, path, extensions). The queries are random
 * (a seeded generator, so a failure names a query that can be replayed), built from the schema
 * a client sees: fields picked at random to a bounded depth, every possible type of an abstract
 * one asked through an inline fragment, aliases that collide with other fields' names, required
 * arguments filled from values the data holds (and some it does not).
 */

interface Generator {
  schema: GraphQLSchema;
  /** Values for a required argument of a leaf type (by argument name, then by type name). */
  values: (argument: GraphQLArgument) => string[] | undefined;
  /** Root fields not to ask (they need more than the generator knows). */
  skip?: Set<string>;
}

function generateQuery(generator: Generator, seed: number, maxDepth: number, deferRate = 0): string {
  const next = seededRandom(seed);
  const pick = <T,>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  const literal = (type: GraphQLInputType, argument: GraphQLArgument): string | undefined => {
    const named = getNamedType(type);
    const nullable = isNonNullType(type) ? type.ofType : type;
    if (isListType(nullable)) {
      const inner = literal(nullable.ofType as GraphQLInputType, argument);
      return inner === undefined ? undefined : `[${inner}]`;
    }
    if (isEnumType(named)) return pick(named.getValues()).name;
    if (isInputObjectType(named)) return undefined;
    const values = generator.values(argument);
    if (values) return JSON.stringify(pick(values));
    if (named.name === 'Int') return String(1 + Math.floor(next() * 3));
    if (named.name === 'Boolean') return next() < 0.5 ? 'true' : 'false';
    return undefined;
  };
  const argumentsOf = (field: GraphQLField<unknown, unknown>): string | undefined => {
    const parts: string[] = [];
    for (const argument of field.args) {
      if (!isNonNullType(argument.type) && next() < 0.8) continue;
      const value = literal(argument.type, argument);
      if (value === undefined) {
        if (isNonNullType(argument.type)) return undefined;
        continue;
      }
      parts.push(`${argument.name}: ${value}`);
    }
    return parts.length > 0 ? `(${parts.join(', ')})` : '';
  };
  const selection = (type: GraphQLNamedType, depth: number): string => {
    if (isAbstractType(type)) {
      const possible = generator.schema.getPossibleTypes(type);
      return `{ __typename ${possible.map((t) => `... on ${t.name} ${selection(t, depth)}`).join(' ')} }`;
    }
    if (!isObjectType(type)) return '';
    const fields = Object.values(type.getFields());
    const chosen: string[] = [];
    const count = 1 + Math.floor(next() * Math.min(4, fields.length));
    for (let i = 0; i < count * 2 && chosen.length < count; i++) {
      const field = pick(fields);
      const inner = getNamedType(field.type);
      if (!isLeafType(inner) && depth >= maxDepth) continue;
      const args = argumentsOf(field);
      if (args === undefined) continue;
      // Sometimes an alias named like another field of the type (aliases that collide).
      const alias = next() < 0.2 ? `${pick(fields).name}: ` : next() < 0.1 ? `a${i}: ` : '';
      const sub = isLeafType(inner) ? '' : selection(inner, depth + 1);
      if (!isLeafType(inner) && sub === '') continue;
      const text = `${alias}${field.name}${args}${sub ? ` ${sub}` : ''}`;
      // Sometimes deferred (a later payload for a client that takes them).
      chosen.push(deferRate > 0 && next() < deferRate ? `... @defer { ${text} }` : text);
    }
    if (chosen.length === 0) chosen.push('__typename');
    return `{ ${chosen.join(' ')} }`;
  };
  const query = generator.schema.getQueryType()!;
  const roots = Object.values(query.getFields()).filter((f) => !f.name.startsWith('_') && !generator.skip?.has(f.name));
  const parts: string[] = [];
  for (let i = 0, n = 1 + Math.floor(next() * 2); i < n * 3 && parts.length < n; i++) {
    const field = pick(roots);
    const args = argumentsOf(field);
    if (args === undefined) continue;
    const inner = getNamedType(field.type);
    parts.push(`r${i}: ${field.name}${args}${isLeafType(inner) ? '' : ` ${selection(inner, 1)}`}`);
  }
  return `{ ${parts.length > 0 ? parts.join(' ') : '__typename'} }`;
}

type Answer = { data?: unknown; errors?: unknown[]; extensions?: unknown };

/** Errors in a fixed order: Apollo reports them in the order its fetches finish, which varies. */
const normalised = (answer: Answer) => ({
  ...answer,
  ...(answer.errors ? { errors: answer.errors.map((e) => JSON.stringify(e)).sort() } : {}),
});

/** A `multipart/mixed` answer (the 2022-08-24 format) merged into the one result it stands for. */
async function askIncremental(gateway: Gateway, query: string, headers: Record<string, string>): Promise<Answer & { parts: number }> {
  const response = await gateway.fetch('http://gateway/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'multipart/mixed;deferSpec=20220824, application/json;q=0.9', ...headers },
    body: JSON.stringify({ query }),
  });
  if (!response.headers.get('content-type')?.startsWith('multipart/mixed')) return { ...((await response.json()) as Answer), parts: 1 };
  const parts = (await response.text())
    .split('\r\n--graphql')
    .filter((raw) => raw.includes('\r\n\r\n'))
    .map((raw) => JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)));
  const merge = (into: any, from: any): any => {
    if (Array.isArray(into) && Array.isArray(from)) return from.map((item, i) => merge(into[i], item));
    if (into && from && typeof into === 'object' && typeof from === 'object') {
      for (const [key, value] of Object.entries(from)) into[key] = merge(into[key], value);
      return into;
    }
    return from;
  };
  const { data, errors = [] } = parts[0];
  for (const part of parts.slice(1)) {
    for (const entry of part.incremental ?? []) {
      errors.push(...(entry.errors ?? []));
      if (entry.data === null || entry.data === undefined) continue;
      const parent = entry.path.reduce((at: any, key: string | number) => at[key], data);
      merge(parent, entry.data);
    }
  }
  return { data, ...(errors.length > 0 ? { errors } : {}), parts: parts.length };
}

async function ask(gateway: Gateway, query: string, headers: Record<string, string>): Promise<Answer> {
  const response = await gateway.fetch('http://gateway/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as Answer;
}

describe('our executor answers random queries exactly as Apollo executor does', () => {
  describe('over the commerce supergraph', () => {
    let system: TestSupergraph;
    let shop: Shop;
    let own: Gateway;
    let apollo: Gateway;

    beforeAll(async () => {
      system = await startSupergraph({ storefrontCache: false });
      shop = await createShop(system);
      await addProduct(system, shop, 'Pepper', ['PEP-1', 'PEP-2']);
      await addProduct(system, shop, 'Salt', ['SAL-1']);
      await setPrice(system, shop, 'PEP-1', '2.40');
      await receiveStock(system, shop, 'PEP-1', 5);
      const sdl = readFileSync(SUPERGRAPH_PATH, 'utf8');
      const options = {
        supergraphSdl: sdl,
        subgraphUrls: system.subgraphUrls,
        auth: { subgraphSecret: system.subgraphSecret, platformApiKey: system.platformApiKey },
        storefrontCache: false,
        graphiql: false,
        log: () => {},
      } as const;
      own = await buildGateway({ ...options, executor: 'own' });
      apollo = await buildGateway({ ...options, executor: 'apollo' });
    }, 120_000);
    afterAll(async () => {
      await own?.stop();
      await apollo?.stop();
      await system?.stop();
    });

    it('for 60 queries of depth up to 4, as the shop admin and as the anonymous storefront', async () => {
      const schema = Supergraph.build(extractScopes(readFileSync(SUPERGRAPH_PATH, 'utf8')).sdl).apiSchema().toGraphQLJSSchema();
      const generator: Generator = {
        schema,
        values: (argument) => {
          if (/store/i.test(argument.name)) return [shop.storeId, 'unknown-store'];
          if (/sku/i.test(argument.name)) return ['PEP-1', 'PEP-2', 'SAL-1', 'NOPE-1'];
          if (/slug|handle/i.test(argument.name)) return ['pepper', 'salt', 'none'];
          if (getNamedType(argument.type).name === 'ID' || getNamedType(argument.type).name === 'String') return ['x1', 'pepper'];
          return undefined;
        },
      };
      let withData = 0;
      for (let seed = 1; seed <= 60; seed++) {
        const query = generateQuery(generator, seed, 4);
        const headers = seed % 3 === 0 ? shop.storefrontHeaders : shop.headers;
        const [ours, theirs] = await Promise.all([ask(own, query, headers), ask(apollo, query, headers)]);
        expect({ seed, query, answer: normalised(ours) }).toEqual({ seed, query, answer: normalised(theirs) });
        if (theirs.data) withData += 1;
      }
      // The comparison is worth something only if many queries get data from the subgraphs.
      expect(withData).toBeGreaterThanOrEqual(20);
    }, 300_000);

    it('for 40 queries with @defer fragments: the payloads merged are the answer without @defer', async () => {
      const schema = Supergraph.build(extractScopes(readFileSync(SUPERGRAPH_PATH, 'utf8')).sdl).apiSchema().toGraphQLJSSchema();
      const generator: Generator = {
        schema,
        values: (argument) => {
          if (/store/i.test(argument.name)) return [shop.storeId];
          if (/sku/i.test(argument.name)) return ['PEP-1', 'PEP-2', 'SAL-1'];
          if (/slug|handle/i.test(argument.name)) return ['pepper', 'salt'];
          if (getNamedType(argument.type).name === 'ID' || getNamedType(argument.type).name === 'String') return ['pepper'];
          return undefined;
        },
      };
      let streamed = 0;
      for (let seed = 1; seed <= 40; seed++) {
        const query = generateQuery(generator, seed, 4, 0.3);
        const [deferred, whole] = await Promise.all([askIncremental(own, query, shop.headers), ask(own, query.replaceAll(' @defer', ''), shop.headers)]);
        const { parts, ...merged } = deferred;
        if (parts > 1) streamed += 1;
        // With an error, a deferred fragment's null stops at the fragment: only the errors' messages and codes compare.
        const codes = (answer: Answer) => (answer.errors ?? []).map((e: any) => `${e.message} ${e.extensions?.code}`).sort();
        if (whole.errors) expect({ seed, query, errors: codes(merged) }).toEqual({ seed, query, errors: codes(whole) });
        else expect({ seed, query, answer: merged }).toEqual({ seed, query, answer: whole });
      }
      // Worth something only if many of them did come in several payloads.
      expect(streamed).toBeGreaterThanOrEqual(10);
    }, 300_000);
  });

  describe("over the federation benchmark's supergraph", () => {
    let subgraphs: BenchSubgraphs;
    let own: Gateway;
    let apollo: Gateway;

    beforeAll(async () => {
      subgraphs = await startBenchSubgraphs();
      const composed = composeServices(Object.entries(BENCH_SUBGRAPHS).map(([name, { typeDefs }]) => ({ name, url: subgraphs.urls[name]!, typeDefs: parse(typeDefs) })));
      if (composed.errors) throw composed.errors[0];
      own = await buildGateway({ supergraphSdl: composed.supergraphSdl, executor: 'own', log: () => {} });
      apollo = await buildGateway({ supergraphSdl: composed.supergraphSdl, executor: 'apollo', log: () => {} });
    });
    afterAll(async () => {
      await own?.stop();
      await apollo?.stop();
      await subgraphs?.stop();
    });

    it('for 100 queries of depth up to 6, with fewer subgraph requests', async () => {
      const composed = composeServices(Object.entries(BENCH_SUBGRAPHS).map(([name, { typeDefs }]) => ({ name, url: `http://${name}`, typeDefs: parse(typeDefs) })));
      const schema = Supergraph.build(composed.supergraphSdl!).apiSchema().toGraphQLJSSchema();
      const generator: Generator = { schema, values: () => ['1', '2', '3'] };
      const requests = () => Object.values(subgraphs.counters).reduce((sum, c) => sum + c.requests, 0);
      let ownRequests = 0;
      let apolloRequests = 0;
      for (let seed = 1; seed <= 100; seed++) {
        const query = generateQuery(generator, seed, 6);
        let before = requests();
        const ours = await ask(own, query, {});
        ownRequests += requests() - before;
        before = requests();
        const theirs = await ask(apollo, query, {});
        apolloRequests += requests() - before;
        expect({ seed, query, answer: normalised(ours) }).toEqual({ seed, query, answer: normalised(theirs) });
      }
      expect(ownRequests).toBeLessThan(apolloRequests);
    }, 300_000);
  });
});
