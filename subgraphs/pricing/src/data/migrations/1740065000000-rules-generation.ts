import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/** The tables whose rows a preview quote keeps in memory between quotes (services/quote-rules.ts). */
export const KEPT_RULE_TABLES = ['store_pricing', 'price_list', 'price_list_price', 'promotion', 'tax_rate'];

/**
 * A per-tenant generation of the pricing rules a preview quote keeps in memory (store settings,
 * price lists and their prices, automatic promotions without limits, tax rates), as the catalog's
 * search generation is for its answers (decision 0043): a quote reads the generation in the same
 * statement (the same snapshot) as what it does not keep, and rules kept under an older generation
 * are read again. Base prices, item facts, known stores, coupon promotions and every promotion with
 * a limit are read by every quote and are not counted here.
 *
 * The bump is a deferred constraint trigger: it runs at commit, after every other lock the
 * transaction takes, once per transaction and tenant (a transaction-local setting remembers it).
 * A promotion's use count moves with every claimed quote: an UPDATE that changes only
 * `usage_count` does not bump (the quotes read those counts every time), so a coupon race does
 * not throw every store's kept rules away.
 *
 * The table is under the tenant policy, not forced: the application role reads its tenant's row,
 * the trigger (as the owner) writes it.
 */
export class RulesGeneration1740065000000 implements MigrationInterface {
  name = 'RulesGeneration1740065000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    await queryRunner.query(`CREATE TABLE "${s}"."rules_generation" (tenant_id uuid PRIMARY KEY, generation bigint NOT NULL)`);
    await enableTenantIsolation(queryRunner, [{ table: 'rules_generation' }]);
    await queryRunner.query(`ALTER TABLE "${s}"."rules_generation" NO FORCE ROW LEVEL SECURITY`);
    await queryRunner.query(`REVOKE INSERT, UPDATE, DELETE ON "${s}"."rules_generation" FROM "${s}_app"`);
    await queryRunner.query(`
      CREATE FUNCTION "${s}".rules_generation_bump() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
      DECLARE
        tenant uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END;
        flag text := 'rules_generation.t' || replace(tenant::text, '-', '');
      BEGIN
        IF tenant IS NULL OR current_setting(flag, true) = 'y' THEN RETURN NULL; END IF;
        INSERT INTO "${s}".rules_generation AS g (tenant_id, generation) VALUES (tenant, 1)
          ON CONFLICT (tenant_id) DO UPDATE SET generation = g.generation + 1;
        PERFORM set_config(flag, 'y', true);
        RETURN NULL;
      END $$`);
    for (const table of KEPT_RULE_TABLES.filter((t) => t !== 'promotion')) {
      await queryRunner.query(`
        CREATE CONSTRAINT TRIGGER rules_generation_bump AFTER INSERT OR UPDATE OR DELETE ON "${s}"."${table}"
          DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "${s}".rules_generation_bump()`);
    }
    await queryRunner.query(`
      CREATE CONSTRAINT TRIGGER rules_generation_bump AFTER INSERT OR DELETE ON "${s}"."promotion"
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "${s}".rules_generation_bump()`);
    await queryRunner.query(`
      CREATE CONSTRAINT TRIGGER rules_generation_bump_update AFTER UPDATE ON "${s}"."promotion"
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        WHEN ((to_jsonb(OLD) - 'usage_count') IS DISTINCT FROM (to_jsonb(NEW) - 'usage_count'))
        EXECUTE FUNCTION "${s}".rules_generation_bump()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    for (const table of KEPT_RULE_TABLES) await queryRunner.query(`DROP TRIGGER IF EXISTS rules_generation_bump ON "${s}"."${table}"`);
    await queryRunner.query(`DROP TRIGGER IF EXISTS rules_generation_bump_update ON "${s}"."promotion"`);
    await queryRunner.query(`DROP FUNCTION IF EXISTS "${s}".rules_generation_bump()`);
    await queryRunner.query(`DROP TABLE IF EXISTS "${s}"."rules_generation"`);
  }
}
