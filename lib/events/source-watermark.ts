import type { EntityManager, MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from '../db/row-level-security.migration.js';

/**
 * The source time a service last applied per (tenant, source, key) of what merchant systems push
 * by webhook (the catalog keys products by `externalRef`, pricing prices by sku): a replayed or
 * late delivery older than what was applied must change nothing, even when its event arrives
 * after a newer one's.
 */
export const SOURCE_WATERMARK = 'source_watermark';

/**
 * Moves the watermark of each key to `sourceTime` where that is not older, in one statement,
 * and returns the keys it is older for, with the newer time already applied. Equal times apply
 * (a re-sent newest state changes nothing; two real updates in one second both apply).
 */
export async function advanceWatermarks(m: EntityManager, tenantId: string, source: string, keys: string[], sourceTime: Date): Promise<Map<string, Date>> {
  if (keys.length === 0) return new Map();
  const rows: { key: string; source_time: Date; applies: boolean }[] = await m.query(
    `INSERT INTO "${m.connection.driver.schema}"."${SOURCE_WATERMARK}" AS w (tenant_id, source, key, source_time)
     SELECT $1, $2, key, $4 FROM unnest($3::text[]) AS t(key)
     ON CONFLICT (tenant_id, source, key) DO UPDATE SET source_time = GREATEST(w.source_time, EXCLUDED.source_time)
     RETURNING key, source_time, (source_time = $4) AS applies`,
    [tenantId, source, [...new Set(keys)], sourceTime],
  );
  return new Map(rows.filter((r) => !r.applies).map((r) => [r.key, r.source_time]));
}

/** The migration that creates a service's watermark table, under tenant isolation. */
export function sourceWatermarkMigration(name: string): new () => MigrationInterface {
  return class implements MigrationInterface {
    name = name;

    async up(queryRunner: QueryRunner): Promise<void> {
      const s = queryRunner.connection.driver.schema;
      await queryRunner.query(`
        CREATE TABLE "${s}"."${SOURCE_WATERMARK}" (
          tenant_id uuid NOT NULL,
          source text NOT NULL,
          key text NOT NULL,
          source_time timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, source, key)
        )`);
      await enableTenantIsolation(queryRunner, [{ table: SOURCE_WATERMARK }]);
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`DROP TABLE "${queryRunner.connection.driver.schema}"."${SOURCE_WATERMARK}"`);
    }
  };
}
