import { readPlugins } from '../../../lib/plugins/load-plugins.js';
import { runSubgraphProcess } from '../../../lib/service-runner.js';
import { buildInventory } from './app.js';
import { loadConfig, readWebhookMaxAgeMs } from './config.js';
import { openInventoryDatabase } from './data/database.js';

void readPlugins().then((plugins) =>
  runSubgraphProcess(loadConfig, openInventoryDatabase, (deps) => buildInventory(deps, { ingestion: { maxAgeMs: readWebhookMaxAgeMs() }, plugins })),
);
