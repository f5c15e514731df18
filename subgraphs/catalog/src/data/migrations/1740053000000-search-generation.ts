import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/** Every table a storefront search reads (its function, the attribute definitions, the page's products and categories). */
export const SEARCH_INPUT_TABLES = [
  'product', 'variant', 'category', 'product_attribute', 'attribute_definition', 'product_search_entry',
  'search_offer', 'search_variant_offer', 'search_term', 'search_synonym', 'search_language',
];

/**
 * A per-tenant generation of everything a storefront search reads (decision 0043): the search
 * keeps its answers under the generation it read them at, and any committed write of the
 * tenant's catalog, search read model (prices and stock from pricing's and inventory's events),
 * synonyms or language makes the next search read a new generation, so no kept answer survives
 * a write.
 *
 * The bump is a deferred constraint trigger on each of those tables: it runs at commit, after
 * every other lock the transaction takes, so two writers of one tenant queue for the generation
 * row only while they commit (a bump in the middle of a transaction could deadlock with a row
 * another writer holds). A transaction bumps each tenant it wrote once (a transaction-local
 * setting remembers it), whatever number of rows it wrote.
 *
 * The table is under the tenant policy, not forced: the application role reads its tenant's row,
 * the trigger (as the owner) writes it.
 */
export class SearchGeneration1740053000000 implements MigrationInterface {
  name = 'SearchGeneration1740053000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    await queryRunner.query(`CREATE TABLE "${s}"."search_generation" (tenant_id uuid PRIMARY KEY, generation bigint NOT NULL)`);
    await enableTenantIsolation(queryRunner, [{ table: 'search_generation' }]);
    await queryRunner.query(`ALTER TABLE "${s}"."search_generation" NO FORCE ROW LEVEL SECURITY`);
    await queryRunner.query(`REVOKE INSERT, UPDATE, DELETE ON "${s}"."search_generation" FROM "${s}_app"`);
    await queryRunner.query(`
      CREATE FUNCTION "${s}".search_generation_bump() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
      DECLARE
        tenant uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END;
        flag text := 'search_generation.t' || replace(tenant::text, '-', '');
      BEGIN
        IF tenant IS NULL OR current_setting(flag, true) = 'y' THEN RETURN NULL; END IF;
        INSERT INTO "${s}".search_generation AS g (tenant_id, generation) VALUES (tenant, 1)
          ON CONFLICT (tenant_id) DO UPDATE SET generation = g.generation + 1;
        PERFORM set_config(flag, 'y', true);
        RETURN NULL;
      END $$`);
    for (const table of SEARCH_INPUT_TABLES) {
      await queryRunner.query(`
        CREATE CONSTRAINT TRIGGER search_generation_bump AFTER INSERT OR UPDATE OR DELETE ON "${s}"."${table}"
          DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "${s}".search_generation_bump()`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    for (const table of SEARCH_INPUT_TABLES) await queryRunner.query(`DROP TRIGGER IF EXISTS search_generation_bump ON "${s}"."${table}"`);
    await queryRunner.query(`DROP FUNCTION IF EXISTS "${s}".search_generation_bump()`);
    await queryRunner.query(`DROP TABLE IF EXISTS "${s}"."search_generation"`);
  }
}
