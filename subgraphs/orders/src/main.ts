import { readOptional } from '../../../lib/env.js';
import { readTargetPolicy } from '../../../lib/outbound/target-policy.js';
import { readPlugins } from '../../../lib/plugins/load-plugins.js';
import { runSubgraphProcess } from '../../../lib/service-runner.js';
import { buildOrders } from './app.js';
import { loadConfig } from './config.js';
import { openOrdersDatabase } from './data/database.js';

// ORDER_WORKFLOW_VERSION: the workflow new orders start on when their tenant's `order-workflow-version` flag does not choose one (default: the latest shipped).
const workflowVersion = readOptional(process.env, 'ORDER_WORKFLOW_VERSION');
// Decision hooks call out under the outbound webhooks' policy (WEBHOOK_ALLOWED_CIDRS, NODE_ENV).
const hookPolicy = readTargetPolicy();
// TEST_CARD_WEBHOOK_URL: the gateway the test-card processor POSTs its signed confirmations to.
const paymentWebhookUrl = readOptional(process.env, 'TEST_CARD_WEBHOOK_URL') ?? 'http://127.0.0.1:4000';
void readPlugins().then((plugins) =>
  runSubgraphProcess(loadConfig, openOrdersDatabase, (deps) =>
    buildOrders(deps, { workflowVersion: workflowVersion ? Number(workflowVersion) : undefined, hookPolicy, plugins, paymentWebhookUrl: () => paymentWebhookUrl }),
  ),
);
