import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { GraphQLError, parse } from 'graphql';
import { buildGateway, type Gateway } from '../../gateway/src/app.js';
import type { SubgraphService } from '../../lib/graphql/service.js';
import { buildYogaSubgraph } from '../../lib/graphql/yoga-subgraph.js';
import { composeSupergraph } from '../../schema/compose-supergraph.js';
import { graphqlRequest, type GraphQLResponse } from '../../scripts/graphql-request.js';

/**
 * Whatever the gateway does for speed (pooled client, shared in-flight fetches), it must answer
 * exactly as a correct federation gateway does. Three subgraphs exercise the hard cases; every
 * query is sent to our gateway and to plain Apollo Gateway under Apollo Server, and the answers
 * must be equal (data, and each error's message and path).
 */
const LINK = '@link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@shareable", "@external", "@provides", "@requires", "@interfaceObject"])';

const BOOKS = [
  { id: 'b1', title: 'Dune', pages: 600 },
  { id: 'b2', title: 'Emma', pages: 300 },
];
const FILMS = [{ id: 'f1', title: 'Alien', minutes: 117 }];
const PEOPLE = [
  { id: 'p1', name: 'Ada', age: 36 },
  { id: 'p2', name: 'Alan', age: 41 },
];

function subgraphs(): SubgraphService[] {
  const media = (id: string) => BOOKS.find((b) => b.id === id) ?? FILMS.find((f) => f.id === id) ?? null;
  const typeOf = (m: { id: string }) => (m.id.startsWith('b') ? 'Book' : 'Film');
  const products = buildYogaSubgraph({
    name: 'products',
    typeDefs: parse(`extend schema ${LINK}
      interface Media @key(fields: "id") { id: ID! title: String! }
      type Book implements Media @key(fields: "id") { id: ID! title: String! pages: Int }
      type Film implements Media @key(fields: "id") { id: ID! title: String! minutes: Int }
      type Person @key(fields: "id") { id: ID! name: String! @shareable }
      union SearchResult = Book | Film | Person
      type Query {
        media: [Media!]!
        mediaById(id: ID!): Media
        search(term: String!): [SearchResult!]!
        favourites: [Book]
      }`),
    resolvers: {
      Query: {
        media: () => [...BOOKS, ...FILMS],
        mediaById: (_: unknown, { id }: { id: string }) => media(id),
        search: (_: unknown, { term }: { term: string }) =>
          [...BOOKS, ...FILMS, ...PEOPLE].filter((x) => ('title' in x ? x.title : x.name).toLowerCase().includes(term.toLowerCase())),
        favourites: () => [BOOKS[0], null, BOOKS[1]],
      },
      Media: { __resolveType: typeOf, __resolveReference: (ref: { id: string }) => media(ref.id) },
      Book: { __resolveReference: (ref: { id: string }) => BOOKS.find((b) => b.id === ref.id) },
      Film: { __resolveReference: (ref: { id: string }) => FILMS.find((f) => f.id === ref.id) },
      Person: { __resolveReference: (ref: { id: string }) => PEOPLE.find((p) => p.id === ref.id) },
      SearchResult: { __resolveType: (x: { id: string }) => (x.id.startsWith('p') ? 'Person' : typeOf(x)) },
    },
    extendContext: (base) => base,
  });
  const reviews = buildYogaSubgraph({
    name: 'reviews',
    typeDefs: parse(`extend schema ${LINK}
      type Media @key(fields: "id") @interfaceObject { id: ID! reviews: [Review!]! rating: Float }
      type Review { id: ID! text: String! author: Person @provides(fields: "name") }
      type Person @key(fields: "id") { id: ID! name: String! @external }`),
    resolvers: {
      Media: {
        __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
        reviews: (m: { id: string }) =>
          m.id === 'b2' ? [] : [{ id: `${m.id}-r1`, text: `Loved ${m.id}`, author: { id: 'p1', name: 'Ada' } }, { id: `${m.id}-r2`, text: `Meh ${m.id}`, author: null }],
        rating: (m: { id: string }) => (m.id === 'f1' ? null : 4.5),
      },
    },
    extendContext: (base) => base,
  });
  const shipping = buildYogaSubgraph({
    name: 'shipping',
    typeDefs: parse(`extend schema ${LINK}
      type Book @key(fields: "id") {
        id: ID!
        pages: Int @external
        weight(unit: String = "g"): Float @requires(fields: "pages")
        shippingCost(express: Boolean!): Float @requires(fields: "pages")
        broken: String
      }
      type Person @key(fields: "id") { id: ID! name: String! @shareable age: Int }`),
    resolvers: {
      Book: {
        __resolveReference: (ref: { id: string; pages?: number }) => ref,
        weight: (b: { pages: number }, { unit }: { unit: string }) => (unit === 'kg' ? b.pages * 0.002 : b.pages * 2),
        shippingCost: (b: { pages: number }, { express }: { express: boolean }) => (express ? 10 : 2) + b.pages / 100,
        broken: (b: { id: string }) => {
          if (b.id === 'b2') throw new GraphQLError('The press broke.', { extensions: { code: 'BROKEN' } });
          return 'fine';
        },
      },
      Person: { __resolveReference: (ref: { id: string }) => PEOPLE.find((p) => p.id === ref.id) },
    },
    extendContext: (base) => base,
  });
  return [products, reviews, shipping];
}

const QUERIES: [string, string, Record<string, unknown>?][] = [
  [
    'an interface across three subgraphs: @interfaceObject, @requires, @provides and a nested chain',
    `{ media { __typename id title ... on Book { pages weight shippingCost(express: true) } ... on Film { minutes }
        reviews { id text author { id name age } } rating } }`,
  ],
  [
    'aliases, variables, @skip and @include, @requires with arguments',
    `query ($express: Boolean!, $skip: Boolean!, $with: Boolean!) {
      first: mediaById(id: "b1") { id label: title ... on Book { grams: weight kilos: weight(unit: "kg") cost: shippingCost(express: $express) }
        reviews @skip(if: $skip) { text } rating @include(if: $with) }
      second: mediaById(id: "f1") { id reviews @skip(if: $skip) { author { name } } }
    }`,
    { express: false, skip: false, with: true },
  ],
  ['the same with the other branches', 'query ($skip: Boolean!) { mediaById(id: "b2") { id reviews @skip(if: $skip) { id } rating @include(if: $skip) } }', { skip: true }],
  ['a union with a type from every subgraph', `{ search(term: "a") { __typename ... on Book { title weight } ... on Film { title rating } ... on Person { name age } } }`],
  ['a list of entities with nulls', '{ favourites { id title weight shippingCost(express: false) } }'],
  ['an error in one subgraph: partial data and the error with its path', '{ media { id ... on Book { broken } } }'],
  [
    'named fragments on the interface and its types',
    `fragment M on Media { id title reviews { author { ...P } } }
     fragment P on Person { name age }
     fragment B on Book { pages weight }
     query Named { media { ...M ...B } }`,
  ],
  ['an unknown id', '{ mediaById(id: "zz") { id title reviews { id } } }'],
];

describe('our gateway answers exactly as plain Apollo Gateway', () => {
  const services = subgraphs();
  let ours: Gateway;
  let oursUrl: string;
  let apollo: ApolloServer;
  let apolloUrl: string;

  beforeAll(async () => {
    const urls = await Promise.all(services.map((s) => s.start(0)));
    const supergraphSdl = composeSupergraph(services.map((s, i) => ({ name: s.name, url: urls[i]!, typeDefs: s.typeDefs })));
    ours = await buildGateway({ supergraphSdl, log: () => {} });
    oursUrl = `${await ours.start(0)}/graphql`;
    apollo = new ApolloServer({ gateway: new ApolloGateway({ supergraphSdl, logger: { debug() {}, info() {}, warn() {}, error() {} } }) });
    apolloUrl = (await startStandaloneServer(apollo, { listen: { port: 0, host: '127.0.0.1' } })).url;
  });
  afterAll(async () => {
    await ours.stop();
    await apollo.stop();
    await Promise.all(services.map((s) => s.stop()));
  });

  const comparable = (response: GraphQLResponse) => ({
    data: response.data,
    errors: response.errors?.map((e) => ({ message: e.message, path: e.path })),
  });

  it.each(QUERIES)('%s', async (_name, query, variables = {}) => {
    const [mine, theirs] = await Promise.all([graphqlRequest(oursUrl, query, variables), graphqlRequest(apolloUrl, query, variables)]);
    expect(theirs.data).toBeTruthy();
    expect(comparable(mine)).toEqual(comparable(theirs));
  });

  it('spot checks: the answers are the right ones, not only the same ones', async () => {
    const { data } = await graphqlRequest(oursUrl, QUERIES[0]![1]);
    expect(data!.media[0]).toEqual({
      __typename: 'Book', id: 'b1', title: 'Dune', pages: 600, weight: 1200, shippingCost: 16, rating: 4.5,
      reviews: [{ id: 'b1-r1', text: 'Loved b1', author: { id: 'p1', name: 'Ada', age: 36 } }, { id: 'b1-r2', text: 'Meh b1', author: null }],
    });
    const broken = await graphqlRequest(oursUrl, QUERIES[5]![1]);
    expect(broken.data).toEqual({ media: [{ id: 'b1', broken: 'fine' }, { id: 'b2', broken: null }, { id: 'f1' }] });
    expect(broken.errors?.map((e) => e.path)).toEqual([['media', 1, 'broken']]);
  });

  it('answers in process through Gateway.fetch (no socket), as over HTTP', async () => {
    const query = QUERIES[0]![1];
    const response = await ours.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query }),
    });
    expect(response.status).toBe(200);
    expect(comparable((await response.json()) as GraphQLResponse)).toEqual(comparable(await graphqlRequest(apolloUrl, query)));
  });

  it('answers identical queries sent together (shared subgraph fetches) exactly as one at a time', async () => {
    const expected = comparable(await graphqlRequest(apolloUrl, QUERIES[0]![1]));
    const answers = await Promise.all(Array.from({ length: 30 }, () => graphqlRequest(oursUrl, QUERIES[0]![1])));
    for (const answer of answers) expect(comparable(answer)).toEqual(expected);
    // And each caller got its own copy: changing one answer changes no other.
    (answers[0]!.data!.media as { title: string }[])[0]!.title = 'changed';
    expect((answers[1]!.data!.media as { title: string }[])[0]!.title).toBe('Dune');
  });

  it('answers every query, each sent several times together with the others, exactly as one at a time', async () => {
    // Shared answers are parsed once and frozen; each request copies what it merges into. A
    // write that forgot to copy throws (an error in the answer); one that copied too little shows
    // in another request's answer.
    const expected = await Promise.all(QUERIES.map(([, query, variables = {}]) => graphqlRequest(apolloUrl, query, variables)));
    // Planned once first, so that copies of one query reach the subgraphs together.
    await Promise.all(QUERIES.map(([, query, variables = {}]) => graphqlRequest(oursUrl, query, variables)));
    const answers = await Promise.all(QUERIES.map(([, query, variables = {}]) => Promise.all(Array.from({ length: 5 }, () => graphqlRequest(oursUrl, query, variables)))));
    answers.forEach((copies, i) => {
      for (const answer of copies) expect(comparable(answer)).toEqual(comparable(expected[i]!));
    });
  });
});

