import { runSubgraphProcess } from '../../../lib/service-runner.js';
import { buildTenant } from './app.js';
import { loadConfig } from './config.js';
import { openTenantDatabase } from './data/database.js';
import { readOutboundWebhookOptions } from './webhooks/config.js';

// Read before anything opens: a malformed WEBHOOK_* setting stops the start with its name.
const webhooks = readOutboundWebhookOptions();
void runSubgraphProcess(loadConfig, openTenantDatabase, (deps) => buildTenant(deps, { webhooks }));
