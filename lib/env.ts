/** Typed readers for environment variables: a malformed value fails at start-up, naming the variable. */
export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function readString(env: Env, name: string, fallback?: string): string {
  const value = env[name];
  if (value !== undefined && value !== '') return value;
  if (fallback !== undefined) return fallback;
  throw new ConfigError(`${name} is required but not set`);
}

export function readOptional(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

export function readInt(env: Env, name: string, fallback: number): number {
  const raw = readOptional(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new ConfigError(`${name} must be a non-negative integer, got "${raw}"`);
  }
  return value;
}

export function readBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = readOptional(env, name);
  if (raw === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** The database URL of one service: `<SERVICE>_DATABASE_URL`, else `DATABASE_URL`, else undefined (embedded). */
export function readDatabaseUrl(env: Env, service: string): string | undefined {
  return readOptional(env, `${service.toUpperCase()}_DATABASE_URL`) ?? readOptional(env, 'DATABASE_URL');
}

/** Secrets shorter than this are refused when NODE_ENV=production. */
export const MIN_SECRET_LENGTH = 32;

/**
 * Values published in this repository (docs, compose file, earlier defaults): whoever read them
 * holds them, so production refuses them, as it refuses anything with a placeholder's words in it.
 */
export const PUBLISHED_SECRETS: readonly string[] = [
  'change-me-subgraph-secret',
  'change-me-platform-key',
  'development-only-subgraph-secret',
  'replace-me-with-32-or-more-random-characters',
];
const PLACEHOLDER = /change-?me|replace-?me|example|placeholder/i;

/** True for a documented example or placeholder value, never to be a production secret. */
export const isPublishedSecret = (value: string) => PUBLISHED_SECRETS.includes(value.trim()) || PLACEHOLDER.test(value);

/**
 * A secret from the environment. With `production`, a missing (when `required`), short
 * (< 32 characters) or published example value stops the start, naming the variable.
 */
export function readSecret(env: Env, name: string, options: { production: boolean; required: boolean }): string | undefined {
  const value = readOptional(env, name);
  if (!options.production) return value;
  if (value === undefined) {
    if (options.required) throw new ConfigError(`${name} is required when NODE_ENV=production (at least ${MIN_SECRET_LENGTH} random characters, e.g. \`openssl rand -base64 32\`)`);
    return undefined;
  }
  if (value.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`${name} is too short for NODE_ENV=production: ${value.length} characters, at least ${MIN_SECRET_LENGTH} random ones are needed`);
  }
  if (isPublishedSecret(value)) throw new ConfigError(`${name} is a published example value; set a secret of your own when NODE_ENV=production`);
  return value;
}
