import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { parse } from 'graphql';
import { buildYogaSubgraph } from '../../lib/graphql/yoga-subgraph.js';
import type { SubgraphService } from '../../lib/graphql/service.js';
import { composeSupergraph } from '../../schema/compose-supergraph.js';
import { graphqlOk } from '../../scripts/graphql-request.js';

/** Two subgraphs that know nothing of commerce: the gateway must serve them as they are. */
function bookSubgraphs(): SubgraphService[] {
  const books = buildYogaSubgraph({
    name: 'books',
    typeDefs: parse(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
      type Book @key(fields: "isbn") { isbn: ID! title: String! }
      type Query { books: [Book!]! }`),
    resolvers: {
      Query: { books: () => [{ isbn: '1', title: 'Dune' }, { isbn: '2', title: 'Emma' }] },
      Book: { __resolveReference: (ref: { isbn: string }) => ({ isbn: ref.isbn, title: ref.isbn === '1' ? 'Dune' : 'Emma' }) },
    },
    extendContext: (base) => base,
  });
  const reviews = buildYogaSubgraph({
    name: 'reviews',
    typeDefs: parse(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
      type Book @key(fields: "isbn") { isbn: ID! stars: Int! }`),
    resolvers: { Book: { __resolveReference: (ref: { isbn: string }) => ({ isbn: ref.isbn, stars: ref.isbn === '1' ? 5 : 4 }) } },
    extendContext: (base) => base,
  });
  return [books, reviews];
}

describe('npm run gateway: any supergraph, tenancy off', () => {
  const subgraphs = bookSubgraphs();
  let supergraphPath: string;
  let child: ReturnType<typeof spawn> | undefined;

  beforeAll(async () => {
    const urls = await Promise.all(subgraphs.map((s) => s.start(0)));
    const sdl = composeSupergraph(subgraphs.map((s, i) => ({ name: s.name, url: urls[i]!, typeDefs: s.typeDefs })));
    supergraphPath = join(tmpdir(), `books-${process.pid}.graphql`);
    writeFileSync(supergraphPath, sdl);
  });
  afterAll(async () => {
    child?.kill('SIGTERM');
    await Promise.all(subgraphs.map((s) => s.stop()));
  });

  it('serves the supergraph file it is given, on the port it is given', async () => {
    child = spawn(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'gateway/src/cli.ts', '--supergraph', supergraphPath, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child!.stdout!.on('data', (chunk) => {
        out += chunk;
        const match = /gateway ready at (\S+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child!.on('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
    });
    const data = await graphqlOk(url, '{ books { isbn title stars } }');
    expect(data).toEqual({ books: [{ isbn: '1', title: 'Dune', stars: 5 }, { isbn: '2', title: 'Emma', stars: 4 }] });
  });
});
