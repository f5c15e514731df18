import { createHash } from 'node:crypto';

/** How an API key is stored and looked up: its SHA-256, hex. The tenant subgraph writes it, the gateway looks it up. */
export const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex');
