import { Client } from 'pg';
import { createClient } from 'redis';
import { SUBGRAPHS } from '../lib/subgraphs.js';

/**
 * A bench leaves nothing behind on shared servers: on PostgreSQL (DATABASE_URL) its schemas
 * (`<service><suffix>`) and their roles; on Redis (REDIS_URL), given the run's own stream name, that
 * stream's keys. Run once the system has stopped.
 */
export async function cleanUpBench(suffix: string, stream?: string): Promise<void> {
  if (process.env.DATABASE_URL) {
    const db = new Client({ connectionString: process.env.DATABASE_URL });
    await db.connect();
    try {
      for (const { name } of SUBGRAPHS) {
        await db.query(`DROP SCHEMA IF EXISTS "${name}${suffix}" CASCADE`);
        await db.query(`DROP ROLE IF EXISTS "${name}${suffix}_app"`);
      }
    } finally {
      await db.end();
    }
  }
  if (stream && process.env.REDIS_URL) {
    const redis = createClient({ url: process.env.REDIS_URL });
    await redis.connect();
    try {
      const keys = await redis.keys(`${stream}*`);
      if (keys.length) await redis.del(keys);
    } finally {
      await redis.quit();
    }
  }
}
