import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `product.handle`: the product's URL name, unique per tenant. A writer may give one; otherwise
 * a trigger makes it from the title (accents dropped, lower case, runs of other characters as
 * `-`), adding the id's first 8 hex digits when the tenant already has that handle. A trigger, so
 * every writer (the feed's bulk SQL included) gets one without a change of its own.
 */
export class ProductHandle1733700000000 implements MigrationInterface {
  name = 'ProductHandle1733700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    // Created by the storefront-search migration.
    const ext = ((await queryRunner.query(
      `SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'unaccent'`,
    )) as { schema: string }[])[0]!.schema;
    const slug = (expr: string) =>
      `coalesce(nullif(trim(both '-' from regexp_replace(lower("${ext}".unaccent('"${ext}".unaccent'::regdictionary, ${expr})), '[^a-z0-9]+', '-', 'g')), ''), 'product')`;
    await queryRunner.query(`ALTER TABLE "${s}"."product" ADD COLUMN handle text`);
    await queryRunner.query(`SET LOCAL app.system = 'on'`);
    await queryRunner.query(`
      UPDATE "${s}"."product" p SET handle = h.handle || CASE WHEN h.n > 1 THEN '-' || left(p.id::text, 8) ELSE '' END
        FROM (SELECT id, ${slug('title')} AS handle, count(*) OVER (PARTITION BY tenant_id, ${slug('title')}) AS n FROM "${s}"."product") h
       WHERE h.id = p.id`);
    await queryRunner.query(`ALTER TABLE "${s}"."product" ALTER COLUMN handle SET NOT NULL`);
    // Not a unique index: one multi-row INSERT (a feed batch) cannot see its own earlier rows from
    // the trigger, so two new products of one title in one batch get the same handle rather than
    // failing the batch; productByHandle answers the older. Handles a writer gives are checked.
    await queryRunner.query(`CREATE INDEX product_handle ON "${s}"."product" (tenant_id, handle)`);
    await queryRunner.query(`
      CREATE FUNCTION "${s}".product_handle() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.handle IS NULL THEN
          NEW.handle := ${slug('NEW.title')};
          IF EXISTS (SELECT 1 FROM "${s}".product p WHERE p.tenant_id = NEW.tenant_id AND p.handle = NEW.handle AND p.id <> NEW.id) THEN
            NEW.handle := NEW.handle || '-' || left(NEW.id::text, 8);
          END IF;
        END IF;
        RETURN NEW;
      END $$`);
    await queryRunner.query(`CREATE TRIGGER product_handle BEFORE INSERT ON "${s}"."product" FOR EACH ROW EXECUTE FUNCTION "${s}".product_handle()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    await queryRunner.query(`DROP TRIGGER product_handle ON "${s}"."product"`);
    await queryRunner.query(`DROP FUNCTION "${s}".product_handle()`);
    await queryRunner.query(`ALTER TABLE "${s}"."product" DROP COLUMN handle`);
  }
}
