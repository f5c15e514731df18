import { ConfigError } from '../../lib/env.js';
import { buildGateway } from './app.js';
import { loadConfig, readSupergraph } from './config.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const gateway = await buildGateway({
    supergraphSdl: readSupergraph(config.supergraphPath),
    subgraphUrls: config.subgraphUrls,
    tenancy: config.tenancy ? { subgraph: 'tenant' } : false,
  });
  const url = await gateway.start(config.port, config.host);
  console.log(`gateway ready at ${url}/graphql`);
  const stop = () => void gateway.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(`gateway failed to start: ${error instanceof ConfigError ? error.message : String(error)}`);
  process.exit(1);
});
