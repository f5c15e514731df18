import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from './row-level-security.migration.js';

/**
 * Stores' time zones (issue 19) for a subgraph that evaluates menus' availability windows (catalog,
 * orders): `store_time_zone`, kept from the tenant subgraph's events by the shared appliers of
 * lib/events/read-model.ts (read model `<service>.known-stores`). Windows set without a zone
 * (`from_store`, a column of the subgraph's `windowTable`) are evaluated in the store's zone as it
 * is now; their `time_zone` (the store's when they were set) is only a fallback.
 */
export function storeTimeZonesMigration(name: string, windowTable: string): new () => MigrationInterface {
  return class implements MigrationInterface {
    name = name;

    async up(queryRunner: QueryRunner): Promise<void> {
      const s = queryRunner.connection.driver.schema;
      await queryRunner.query(`
        CREATE TABLE "${s}"."store_time_zone" (
          tenant_id uuid NOT NULL,
          store_id uuid NOT NULL,
          time_zone text NOT NULL,
          PRIMARY KEY (tenant_id, store_id)
        )`);
      await enableTenantIsolation(queryRunner, [{ table: 'store_time_zone' }]);
      await queryRunner.query(`ALTER TABLE "${s}"."${windowTable}" ADD COLUMN from_store boolean NOT NULL DEFAULT false`);
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      const s = queryRunner.connection.driver.schema;
      await queryRunner.query(`ALTER TABLE "${s}"."${windowTable}" DROP COLUMN from_store`);
      await queryRunner.query(`DROP TABLE "${s}"."store_time_zone"`);
    }
  };
}
