import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../lib/env.js';

/** Without PLATFORM_API_KEY, development gets a fresh one per start, printed once; production refuses to start. */
export function developmentPlatformKey(env = process.env): string {
  if (env.NODE_ENV === 'production') throw new ConfigError('PLATFORM_API_KEY is required when NODE_ENV=production');
  const key = `pk_${randomBytes(24).toString('base64url')}`;
  console.log(`PLATFORM_API_KEY is not set; this run's platform key: ${key}`);
  return key;
}
