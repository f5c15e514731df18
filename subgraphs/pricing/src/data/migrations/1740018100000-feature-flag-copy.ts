import { featureFlagCopyMigration } from '../../../../../lib/flags/flag-copy.js';

/** The copy of the tenant's feature flags this subgraph evaluates from (lib/flags/flag-copy.ts). */
export const FeatureFlagCopy1740018100000 = featureFlagCopyMigration('FeatureFlagCopy1740018100000');
