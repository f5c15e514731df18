import { runSubgraphProcess } from '../../../lib/service-runner.js';
import { buildCatalog } from './app.js';
import { modelProviderConfigFrom } from './enrichment/model-provider.js';
import { loadConfig } from './config.js';
import { openCatalogDatabase } from './data/database.js';

void runSubgraphProcess(loadConfig, openCatalogDatabase, (deps) => buildCatalog(deps, { enrichmentModel: modelProviderConfigFrom(process.env) }));
