import { signedJsonSource } from './signed-json.js';

/** ERP systems: stock deltas and levels in the signed JSON format. */
export const erp = signedJsonSource('ERP', 'erp');
