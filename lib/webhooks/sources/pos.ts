import { signedJsonSource } from './signed-json.js';

/** Point-of-sale systems: stock deltas and levels in the signed JSON format. */
export const pos = signedJsonSource('POS', 'pos');
