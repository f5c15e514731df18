/**
 * Plain Apollo Gateway as a user would pick it: `@apollo/gateway` over a static supergraph,
 * served by `@apollo/server`'s standalone server, defaults otherwise.
 * `node --import tsx bench/gateway/apollo-server.ts <supergraph file> <port>`
 */
import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

async function main(): Promise<void> {
  const [file, port] = process.argv.slice(2);
  const gateway = new ApolloGateway({ supergraphSdl: readFileSync(file!, 'utf8') });
  const server = new ApolloServer({ gateway });
  const { url } = await startStandaloneServer(server, { listen: { port: Number(port), host: '127.0.0.1' } });
  console.log(`apollo gateway ready at ${url}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
