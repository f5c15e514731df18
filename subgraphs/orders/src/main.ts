import { readOptional } from '../../../lib/env.js';
import { runSubgraphProcess } from '../../../lib/service-runner.js';
import { buildOrders } from './app.js';
import { loadConfig } from './config.js';
import { openOrdersDatabase } from './data/database.js';

// ORDER_WORKFLOW_VERSION: the workflow new orders start on (default: the latest shipped).
const workflowVersion = readOptional(process.env, 'ORDER_WORKFLOW_VERSION');
void runSubgraphProcess(loadConfig, openOrdersDatabase, (deps) =>
  buildOrders(deps, { workflowVersion: workflowVersion ? Number(workflowVersion) : undefined }),
);
