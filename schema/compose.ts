/**
 * `npm run compose` writes schema/supergraph.graphql from the subgraph SDLs;
 * `npm run compose:check` fails when the committed file is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { CompositionFailed, SUPERGRAPH_PATH, composeSupergraph, defaultSubgraphDefinitions } from './compose-supergraph.js';

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
  const current = (() => {
    try {
      return readFileSync(SUPERGRAPH_PATH, 'utf8');
    } catch {
      return '';
    }
  })();
  if (check) {
    if (current !== sdl) {
      console.error('schema/supergraph.graphql is stale: run `npm run compose` and commit it.');
      process.exit(1);
    }
    console.log('schema/supergraph.graphql is up to date.');
    return;
  }
  writeFileSync(SUPERGRAPH_PATH, sdl);
  console.log(`wrote ${SUPERGRAPH_PATH}`);
}

main();
