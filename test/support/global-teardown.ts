import type { EmbeddedPostgres } from '../../lib/db/embedded-postgres';

export default async function globalTeardown(): Promise<void> {
  const state = globalThis as { __embeddedPostgres?: EmbeddedPostgres };
  await state.__embeddedPostgres?.stop();
  if (state.__embeddedPostgres) delete process.env.DATABASE_URL;
}
