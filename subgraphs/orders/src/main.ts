import { runSubgraphProcess } from '../../../lib/service-runner.js';
import { buildOrders } from './app.js';
import { loadConfig } from './config.js';
import { openOrdersDatabase } from './data/database.js';

void runSubgraphProcess(loadConfig(), openOrdersDatabase, buildOrders);
