import { runSubgraphProcess } from '../../../lib/service-runner.js';
import { buildPricing } from './app.js';
import { loadConfig } from './config.js';
import { openPricingDatabase } from './data/database.js';

void runSubgraphProcess(loadConfig, openPricingDatabase, buildPricing);
