/**
 * `npm run gateway -- --supergraph <file> [--port 4000] [--host 127.0.0.1] [--tenancy]`
 * serves any Federation 2 supergraph (`--port` and `--host` default to PORT and HOST); commerce identity and tenancy are off unless `--tenancy`
 * is given (then configured by the same environment as `npm run start:gateway`).
 */
import { parseArgs } from 'node:util';
import { buildGateway } from './app.js';
import { loadConfig, readSupergraph } from './config.js';
import { developmentPlatformKey } from './platform-key.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      supergraph: { type: 'string' },
      port: { type: 'string', default: process.env.PORT || '4000' },
      host: { type: 'string', default: process.env.HOST || '127.0.0.1' },
      tenancy: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.supergraph) {
    console.log('usage: npm run gateway -- --supergraph <file> [--port 4000] [--host 127.0.0.1] [--tenancy]');
    process.exit(values.help ? 0 : 2);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0-65535, got ${values.port}`);
  const gateway = await buildGateway({
    supergraphSdl: readSupergraph(values.supergraph),
    auth: values.tenancy
      ? (() => {
          const config = loadConfig();
          return {
            subgraphSecret: config.subgraphSecret,
            platformApiKey: config.platformApiKey ?? developmentPlatformKey(),
            jwt: config.jwt,
            anonymousIntrospection: config.anonymousIntrospection,
          };
        })()
      : undefined,
    operator: { token: process.env.OPERATOR_TOKEN, production: process.env.NODE_ENV === 'production' },
  });
  const url = await gateway.start(port, values.host);
  console.log(`gateway ready at ${url}/graphql`);
  const stop = () => void gateway.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(`gateway failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
