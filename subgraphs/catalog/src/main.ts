import { runSubgraphProcess } from '../../../lib/service-runner.js';
import { buildCatalog } from './app.js';
import { loadConfig } from './config.js';
import { openCatalogDatabase } from './data/database.js';

void runSubgraphProcess(loadConfig, openCatalogDatabase, buildCatalog);
