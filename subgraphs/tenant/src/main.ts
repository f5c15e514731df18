import { runSubgraphProcess } from '../../../lib/service-runner.js';
import { buildTenant } from './app.js';
import { loadConfig } from './config.js';
import { openTenantDatabase } from './data/database.js';

void runSubgraphProcess(loadConfig, openTenantDatabase, buildTenant);
