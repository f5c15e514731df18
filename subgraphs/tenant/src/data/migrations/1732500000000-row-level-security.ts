import type { MigrationInterface, QueryRunner } from 'typeorm';
import { disableTenantIsolation, enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';
import { EVENT_TABLES } from '../../../../../lib/events/event-tables.migration.js';

/** Every table of the tenant subgraph holds tenant rows: isolation is the database's job too. */
const TABLES = [{ table: 'tenant', tenantColumn: 'id' }, { table: 'store' }, { table: 'api_key' }, ...EVENT_TABLES];

export class RowLevelSecurity1732500000000 implements MigrationInterface {
  name = 'RowLevelSecurity1732500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await enableTenantIsolation(queryRunner, TABLES);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await disableTenantIsolation(queryRunner, TABLES);
  }
}
