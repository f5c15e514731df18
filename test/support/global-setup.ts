import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../lib/db/embedded-postgres';

/**
 * One PostgreSQL for the whole run: the real server when DATABASE_URL is set, otherwise an
 * in-memory PGlite served on loopback. Each suite works in schemas of its own.
 */
export default async function globalSetup(): Promise<void> {
  // As scripts/launch.cjs does for every entry point: the gateways tests build report nothing to
  // Apollo and probe no cloud metadata endpoint (the workers inherit this environment).
  process.env.APOLLO_TELEMETRY_DISABLED ??= 'true';
  if (process.env.DATABASE_URL) return;
  const embedded: EmbeddedPostgres = await startEmbeddedPostgres();
  process.env.DATABASE_URL = embedded.url;
  process.env.TEST_EMBEDDED_POSTGRES = '1';
  (globalThis as { __embeddedPostgres?: EmbeddedPostgres }).__embeddedPostgres = embedded;
}
