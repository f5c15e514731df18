import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/** The product fields a version records (column → name in `changes` and in the state). */
const FIELDS: [column: string, field: string][] = [
  ['title', 'title'],
  ['handle', 'handle'],
  ['brand', 'brand'],
  ['description', 'description'],
  ['category_id', 'categoryId'],
  ['published', 'published'],
];

/**
 * Product versions and drafts (issue 19, decision 0035). Every write of a product's fields, by
 * any path (mutations, feeds' set-based upserts, merchant products, enrichment, revert, publish),
 * appends an immutable `product_version` in the same statement, by trigger: no writer can forget
 * it and a feed batch pays one INSERT … SELECT per statement, not a round trip per product. Who
 * and which source come from the transaction's `app.changed_by` / `app.change_source`
 * (`attributeChange`). A draft (`product_draft`) holds the fields an editor changed, apart from
 * the product that shoppers and search read, until it is published, maybe at a set time.
 */
export class ProductVersions1738100000000 implements MigrationInterface {
  name = 'ProductVersions1738100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`ALTER TABLE "${s}"."product" ADD COLUMN version int NOT NULL DEFAULT 0`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."product_version" (
        product_id uuid NOT NULL,
        version int NOT NULL,
        tenant_id uuid NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now(),
        changed_by text NOT NULL,
        source text NOT NULL,
        changes jsonb NOT NULL,
        state jsonb NOT NULL,
        PRIMARY KEY (product_id, version)
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."product_draft" (
        product_id uuid PRIMARY KEY REFERENCES "${s}"."product"(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL,
        fields jsonb NOT NULL,
        publish_at timestamptz,
        scheduled_by text,
        updated_by text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // The scheduler's question, "which drafts are due?", reads only scheduled drafts.
    await queryRunner.query(`CREATE INDEX product_draft_due ON "${s}"."product_draft" (publish_at) WHERE publish_at IS NOT NULL`);
    await enableTenantIsolation(queryRunner, [{ table: 'product_version', appendOnly: true }, { table: 'product_draft' }]);

    const changed = FIELDS.map(([c]) => `NEW.${c} IS DISTINCT FROM OLD.${c}`).join(' OR ');
    // A version number only moves when a recorded field changed (not for `updated_at` alone).
    await queryRunner.query(`
      CREATE FUNCTION "${s}".product_version_number() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN NEW.version := 1;
        ELSIF ${changed} THEN NEW.version := OLD.version + 1;
        ELSE NEW.version := OLD.version;
        END IF;
        RETURN NEW;
      END $$`);
    await queryRunner.query(`CREATE TRIGGER product_version_number BEFORE INSERT OR UPDATE ON "${s}"."product" FOR EACH ROW EXECUTE FUNCTION "${s}".product_version_number()`);

    const change = (o: string) =>
      `(SELECT coalesce(jsonb_agg(jsonb_build_object('field', f, 'from', a, 'to', b) ORDER BY i), '[]'::jsonb)
          FROM (VALUES ${FIELDS.map(([c, f], i) => `(${i}, '${f}', ${o === 'NULL' ? 'NULL::text' : `${o}.${c}::text`}, n.${c}::text)`).join(', ')}) AS d(i, f, a, b)
         WHERE a IS DISTINCT FROM b)`;
    const state = `jsonb_build_object(${FIELDS.map(([c, f]) => `'${f}', n.${c}`).join(', ')})`;
    const who = `coalesce(nullif(current_setting('app.changed_by', true), ''), 'unknown'), coalesce(nullif(current_setting('app.change_source', true), ''), 'unknown')`;
    await queryRunner.query(`
      CREATE FUNCTION "${s}".product_version_record() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO "${s}".product_version (product_id, version, tenant_id, changed_by, source, changes, state)
          SELECT n.id, n.version, n.tenant_id, ${who}, ${change('NULL')}, ${state} FROM changed_new n;
        ELSE
          INSERT INTO "${s}".product_version (product_id, version, tenant_id, changed_by, source, changes, state)
          SELECT n.id, n.version, n.tenant_id, ${who}, ${change('o')}, ${state}
            FROM changed_new n JOIN changed_old o ON o.id = n.id WHERE n.version <> o.version;
        END IF;
        RETURN NULL;
      END $$`);
    await queryRunner.query(
      `CREATE TRIGGER product_version_insert AFTER INSERT ON "${s}"."product" REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION "${s}".product_version_record()`,
    );
    await queryRunner.query(
      `CREATE TRIGGER product_version_update AFTER UPDATE ON "${s}"."product" REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION "${s}".product_version_record()`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    for (const trigger of ['product_version_update', 'product_version_insert', 'product_version_number']) await queryRunner.query(`DROP TRIGGER ${trigger} ON "${s}"."product"`);
    await queryRunner.query(`DROP FUNCTION "${s}".product_version_record()`);
    await queryRunner.query(`DROP FUNCTION "${s}".product_version_number()`);
    await queryRunner.query(`DROP TABLE "${s}"."product_draft"`);
    await queryRunner.query(`DROP TABLE "${s}"."product_version"`);
    await queryRunner.query(`ALTER TABLE "${s}"."product" DROP COLUMN version`);
  }
}
