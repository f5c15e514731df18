import type { MigrationInterface, QueryRunner } from 'typeorm';
import { disableTenantIsolation, enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';
import { EVENT_TABLES } from '../../../../../lib/events/event-tables.migration.js';

/** Every table of the inventory subgraph holds tenant rows: isolation is the database's job too. */
const TABLES = [{ table: 'movement', appendOnly: true }, { table: 'stock_level' }, { table: 'known_variant' }, { table: 'known_store' }, { table: 'idempotency' }, ...EVENT_TABLES];

export class RowLevelSecurity1732500000000 implements MigrationInterface {
  name = 'RowLevelSecurity1732500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await enableTenantIsolation(queryRunner, TABLES);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await disableTenantIsolation(queryRunner, TABLES);
  }
}
