import { signedJsonSource } from './signed-json.js';

/** Point-of-sale systems: stock deltas and levels, and restaurant menus (`menu.updated`, decision 0036), in the signed JSON format. */
export const pos = signedJsonSource('POS', 'pos', ['menu.updated']);
