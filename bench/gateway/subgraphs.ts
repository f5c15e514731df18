/**
 * The four subgraphs of the public federation benchmark design (The Guild's
 * graphql-gateways-benchmark): accounts, inventory, products, reviews, with their static data,
 * written here as small graphql-js servers on node:http (parsed and validated documents cached
 * by query text), so the gateway, not the subgraphs, is what the benchmark measures.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { execute, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';

const LINK = (imports: string[]) => `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: [${imports.map((i) => `"${i}"`).join(', ')}])`;

const USERS = [
  { id: '1', name: 'Uri Goldshtein', username: 'urigo', birthday: 1234567890 },
  { id: '2', name: 'Dotan Simha', username: 'dotansimha', birthday: 1234567890 },
  { id: '3', name: 'Kamil Kisiela', username: 'kamilkisiela', birthday: 1234567890 },
  { id: '4', name: 'Arda Tanrikulu', username: 'ardatan', birthday: 1234567890 },
  { id: '5', name: 'Gil Gardosh', username: 'gilgardosh', birthday: 1234567890 },
  { id: '6', name: 'Laurin Quast', username: 'laurin', birthday: 1234567890 },
];

const PRODUCTS = [
  { upc: '1', name: 'Table', price: 899, weight: 100 },
  { upc: '2', name: 'Couch', price: 1299, weight: 1000 },
  { upc: '3', name: 'Glass', price: 15, weight: 20 },
  { upc: '4', name: 'Chair', price: 499, weight: 100 },
  { upc: '5', name: 'TV', price: 1299, weight: 1000 },
  { upc: '6', name: 'Lamp', price: 6999, weight: 300 },
  { upc: '7', name: 'Grill', price: 3999, weight: 2000 },
  { upc: '8', name: 'Fridge', price: 100000, weight: 6000 },
  { upc: '9', name: 'Sofa', price: 9999, weight: 800 },
];

const IN_STOCK: Record<string, boolean> = { '1': true, '2': false, '3': false, '4': false, '5': true, '6': true, '7': true, '8': false, '9': true };

const LOREM =
  'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.';
const SED =
  'Sed ut perspiciatis unde omnis iste natus error sit voluptatem accusantium doloremque laudantium, totam rem aperiam, eaque ipsa quae ab illo inventore veritatis et quasi architecto beatae vitae dicta sunt explicabo. Nemo enim ipsam voluptatem quia voluptas sit aspernatur aut odit aut fugi';
const QUIA =
  'sed quia consequuntur magni dolores eos qui ratione voluptatem sequi nesciunt. Neque porro quisquam est, qui dolorem ipsum quia dolor sit amet, consectetur, adipisci velit, sed quia non numquam eius modi tempora incidunt ut labore et dolore magnam aliquam quaerat voluptatem.';
const MINIMA = 'Ut enim ad minima veniam, quis nostrum exercitationem ullam corporis suscipit laboriosam, nisi ut aliquid ex ea commodi consequatur? Quis autem';
const VERO =
  'At vero eos et accusamus et iusto odio dignissimos ducimus qui blanditiis praesentium voluptatum deleniti atque corrupti quos dolores et quas molestias excepturi sint occaecati cupiditate non provident, similique sunt in culpa qui officia deserunt mollitia animi, id est laborum et dolorum fuga. Et harum quidem rerum facilis est et expedita distinctio. Nam libero tempore, cum soluta nobis est eligendi optio cumque nihil impedit quo minus id quod maxime placeat facere possimus, omnis voluptas assumenda est, omnis dolor repellendus. Temporibus autem quibusdam et aut officiis debitis aut rerum necessitatibus saepe eveniet ut et voluptates repudiandae sint et molestiae non recusandae. Itaque earum rerum hic tenetur a sapiente delectus, ut aut reiciendis voluptatibus maiores alias consequatur aut perferendis doloribus asperiores repellat.';

const REVIEWS = [
  { id: '1', body: LOREM, upc: '1' },
  { id: '2', body: SED, upc: '1' },
  { id: '3', body: QUIA, upc: '1' },
  { id: '4', body: MINIMA, upc: '1' },
  { id: '5', body: LOREM, upc: '2' },
  { id: '6', body: SED, upc: '2' },
  { id: '7', body: QUIA, upc: '2' },
  { id: '8', body: MINIMA, upc: '2' },
  { id: '9', body: MINIMA, upc: '3' },
  { id: '10', body: MINIMA, upc: '4' },
  { id: '11', body: VERO, upc: '4' },
];
const reviewOut = (r: (typeof REVIEWS)[number]) => ({ id: r.id, body: r.body, product: { upc: r.upc } });

export const BENCH_SUBGRAPHS: Record<string, { typeDefs: string; resolvers: Record<string, any> }> = {
  accounts: {
    typeDefs: `${LINK(['@key', '@shareable'])}
      type Query { me: User  user(id: ID!): User  users: [User] }
      type User @key(fields: "id") { id: ID!  name: String  username: String @shareable  birthday: Int }`,
    resolvers: {
      Query: { me: () => USERS[0], user: (_: unknown, { id }: { id: string }) => USERS.find((u) => u.id === id) ?? null, users: () => USERS },
      User: { __resolveReference: (ref: { id: string }) => USERS.find((u) => u.id === ref.id) ?? null },
    },
  },
  inventory: {
    typeDefs: `${LINK(['@key', '@external', '@requires'])}
      type Product @key(fields: "upc") {
        upc: String!
        weight: Int @external
        price: Int @external
        inStock: Boolean
        shippingEstimate: Int @requires(fields: "price weight")
      }`,
    resolvers: {
      Product: {
        __resolveReference: (ref: { upc: string; price?: number; weight?: number }) => ({ ...ref, inStock: IN_STOCK[ref.upc] ?? null }),
        shippingEstimate: (p: { price?: number | null; weight?: number | null }) => {
          if (p.price == null) return null;
          if (p.price > 1000) return 0;
          return p.weight == null ? null : Math.trunc(p.weight / 2);
        },
      },
    },
  },
  products: {
    typeDefs: `${LINK(['@key'])}
      type Query { topProducts(first: Int = 5): [Product] }
      type Product @key(fields: "upc") { upc: String!  name: String  price: Int  weight: Int }`,
    resolvers: {
      Query: { topProducts: (_: unknown, { first }: { first: number }) => PRODUCTS.slice(0, first) },
      Product: { __resolveReference: (ref: { upc: string }) => PRODUCTS.find((p) => p.upc === ref.upc) ?? null },
    },
  },
  reviews: {
    typeDefs: `${LINK(['@key', '@external', '@provides'])}
      type Review @key(fields: "id") { id: ID!  body: String  product: Product  author: User @provides(fields: "username") }
      type User @key(fields: "id") { id: ID!  username: String @external  reviews: [Review] }
      type Product @key(fields: "upc") { upc: String!  reviews: [Review] }`,
    resolvers: {
      Review: {
        __resolveReference: (ref: { id: string }) => {
          const review = REVIEWS.find((r) => r.id === ref.id);
          return review ? reviewOut(review) : null;
        },
        author: () => ({ id: '1', username: 'urigo' }),
      },
      User: {
        __resolveReference: (ref: { id: string }) => ({ id: ref.id, username: 'user' }),
        reviews: () => REVIEWS.slice(0, 2).map(reviewOut),
      },
      Product: {
        __resolveReference: (ref: { upc: string }) => ({ upc: ref.upc }),
        reviews: (p: { upc: string }) => REVIEWS.filter((r) => r.upc === p.upc).map(reviewOut),
      },
    },
  },
};

/** The benchmark's query: users → reviews → product → reviews → author → reviews → product, and topProducts. */
export const BENCH_QUERY = /* GraphQL */ `
fragment User on User { id username name }
fragment Review on Review { id body }
fragment Product on Product { inStock name price shippingEstimate upc weight }
query TestQuery {
  users {
    ...User
    reviews {
      ...Review
      product {
        ...Product
        reviews { ...Review author { ...User reviews { ...Review product { ...Product } } } }
      }
    }
  }
  topProducts {
    ...Product
    reviews { ...Review author { ...User reviews { ...Review product { ...Product } } } }
  }
}`;

function serve(schema: GraphQLSchema, counter: { requests: number }): Server {
  const documents = new Map<string, DocumentNode | readonly Error[]>();
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      counter.requests++;
      const send = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
      };
      let body: { query?: string; variables?: Record<string, unknown>; operationName?: string };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(400, { errors: [{ message: 'invalid JSON' }] });
      }
      const query = body.query ?? '';
      let document = documents.get(query);
      if (!document) {
        try {
          const parsed = parse(query);
          const errors = validate(schema, parsed);
          document = errors.length ? errors : parsed;
        } catch (error) {
          document = [error as Error];
        }
        documents.set(query, document);
      }
      if (Array.isArray(document)) return send(400, { errors: document.map((e) => ({ message: e.message })) });
      const result = execute({ schema, document: document as DocumentNode, variableValues: body.variables, operationName: body.operationName });
      if (result instanceof Promise) void result.then((r) => send(200, r));
      else send(200, result);
    });
  });
}

export interface BenchSubgraphs {
  urls: Record<string, string>;
  /** Requests served, by subgraph. */
  counters: Record<string, { requests: number }>;
  stop(): Promise<void>;
}

/** Serves the four subgraphs on loopback, free ports. */
export async function startBenchSubgraphs(): Promise<BenchSubgraphs> {
  const urls: Record<string, string> = {};
  const counters: Record<string, { requests: number }> = {};
  const servers: Server[] = [];
  for (const [name, { typeDefs, resolvers }] of Object.entries(BENCH_SUBGRAPHS)) {
    const schema = buildSubgraphSchema({ typeDefs: parse(typeDefs), resolvers });
    counters[name] = { requests: 0 };
    const server = serve(schema, counters[name]);
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    urls[name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  }
  return {
    urls,
    counters,
    stop: async () => {
      for (const server of servers) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}
