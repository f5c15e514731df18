import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/**
 * Modifier groups of menu products (issue 19, decision 0036): "Milk: oat/soy", at least
 * `min_selections`, at most `max_selections` of its modifiers, each a sku priced in pricing.
 */
export class ModifierGroups1740019600000 implements MigrationInterface {
  name = 'ModifierGroups1740019600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."modifier_group" (
        tenant_id uuid NOT NULL,
        product_id uuid NOT NULL REFERENCES "${s}"."product"(id) ON DELETE CASCADE,
        position int NOT NULL,
        name text NOT NULL,
        min_selections int NOT NULL CHECK (min_selections >= 0),
        max_selections int NOT NULL CHECK (max_selections >= min_selections),
        modifiers jsonb NOT NULL,
        PRIMARY KEY (product_id, position)
      )`);
    await enableTenantIsolation(queryRunner, [{ table: 'modifier_group' }]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "${queryRunner.connection.driver.schema}"."modifier_group"`);
  }
}
