/**
 * `npm run compose` writes schema/supergraph.graphql from the subgraph SDLs;
 * `npm run compose:check` fails when the committed file is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { extractScopes } from '../gateway/src/auth/scopes.js';
import { buildContractSchema } from '../lib/graphql/contract.js';
import { CompositionFailed, PARTNER_SCHEMA_PATH, SUPERGRAPH_PATH, composeSupergraph, defaultSubgraphDefinitions } from './compose-supergraph.js';

function main(): void {
  const check = process.argv.includes('--check');
  let sdl: string;
  try {
    sdl = composeSupergraph(defaultSubgraphDefinitions());
  } catch (error) {
    if (error instanceof CompositionFailed) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const outputs: [string, string][] = [
    [SUPERGRAPH_PATH, sdl],
    // The partner contract: elements tagged @tag(name: "partner") only.
    [PARTNER_SCHEMA_PATH, `${printSchema(buildContractSchema(extractScopes(sdl).sdl, 'partner'))}\n`],
  ];
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
  if (check) {
    const stale = outputs.filter(([path, text]) => read(path) !== text).map(([path]) => path);
    if (stale.length > 0) {
      console.error(`stale: ${stale.join(', ')}: run \`npm run compose\` and commit.`);
      process.exit(1);
    }
    console.log('schema/supergraph.graphql and schema/partner.graphql are up to date.');
    return;
  }
  for (const [path, text] of outputs) {
    writeFileSync(path, text);
    console.log(`wrote ${path}`);
  }
}

main();
