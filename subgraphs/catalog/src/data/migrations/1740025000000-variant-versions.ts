import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The product fields a version records (column → name in `changes`), as ProductVersions1738100000000 has them. */
const FIELDS: [column: string, field: string][] = [
  ['title', 'title'],
  ['handle', 'handle'],
  ['brand', 'brand'],
  ['description', 'description'],
  ['category_id', 'categoryId'],
  ['published', 'published'],
];

/** One product's variants as one line of text, in their order: `SKU-1 "Title" [barcode], …`. */
const summary = (alias: string) =>
  `(SELECT coalesce(string_agg(format('%s "%s"', v.sku, v.title) || coalesce(' [' || v.barcode || ']', ''), ', ' ORDER BY v.position, v.sku), '')
      FROM "%SCHEMA%".variant v WHERE v.product_id = ${alias}.id)`;

const WHO = `coalesce(nullif(current_setting('app.changed_by', true), ''), 'unknown'), coalesce(nullif(current_setting('app.change_source', true), ''), 'unknown')`;
const STATE = `jsonb_build_object(${FIELDS.map(([c, f]) => `'${f}', n.${c}`).join(', ')})`;

/** The version triggers' two functions; `variants` adds the variants summary to what they record. */
function versionFunctions(variants: boolean): string[] {
  const fields = variants ? [...FIELDS, ['variants', 'variants'] as [string, string]] : FIELDS;
  const changed = FIELDS.map(([c]) => `NEW.${c} IS DISTINCT FROM OLD.${c}`).join(' OR ');
  const value = (c: string, alias: string) => (c === 'variants' ? `nullif(${alias}.${c}, '')` : `${alias}.${c}::text`);
  const change = (o: string) =>
    `(SELECT coalesce(jsonb_agg(jsonb_build_object('field', f, 'from', a, 'to', b) ORDER BY i), '[]'::jsonb)
        FROM (VALUES ${fields.map(([c, f], i) => `(${i}, '${f}', ${o === 'NULL' ? 'NULL::text' : value(c, o)}, ${value(c, 'n')})`).join(', ')}) AS d(i, f, a, b)
       WHERE a IS DISTINCT FROM b)`;
  // Variants written in the transaction that made the product's current version (a product
  // created, then its variants; a feed row's product, then its variants) belong to that version:
  // `changed_at` defaults to now(), the transaction's start, so it tells that transaction's rows.
  const onlyVariants = variants
    ? `ELSIF NEW.variants IS DISTINCT FROM OLD.variants THEN
          NEW.version := CASE WHEN EXISTS (SELECT 1 FROM "%SCHEMA%".product_version WHERE product_id = OLD.id AND version = OLD.version AND changed_at = now())
                              THEN OLD.version ELSE OLD.version + 1 END;`
    : '';
  const amend = variants
    ? `PERFORM "%SCHEMA%".product_version_amend(array_agg(n.id), array_agg(n.version), array_agg(nullif(o.variants, '')), array_agg(nullif(n.variants, '')))
           FROM changed_new n JOIN changed_old o ON o.id = n.id WHERE n.version = o.version AND n.variants IS DISTINCT FROM o.variants
          HAVING count(*) > 0;`
    : '';
  return [
    `CREATE OR REPLACE FUNCTION "%SCHEMA%".product_version_number() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN NEW.version := 1;
        ELSIF ${changed} THEN NEW.version := OLD.version + 1;
        ${onlyVariants}
        ELSE NEW.version := OLD.version;
        END IF;
        RETURN NEW;
      END $$`,
    `CREATE OR REPLACE FUNCTION "%SCHEMA%".product_version_record() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO "%SCHEMA%".product_version (product_id, version, tenant_id, changed_by, source, changes, state)
          SELECT n.id, n.version, n.tenant_id, ${WHO}, ${change('NULL')}, ${STATE} FROM changed_new n;
        ELSE
          INSERT INTO "%SCHEMA%".product_version (product_id, version, tenant_id, changed_by, source, changes, state)
          SELECT n.id, n.version, n.tenant_id, ${WHO}, ${change('o')}, ${STATE}
            FROM changed_new n JOIN changed_old o ON o.id = n.id WHERE n.version <> o.version;
          ${amend}
        END IF;
        RETURN NULL;
      END $$`,
  ];
}

/**
 * A change to a product's variants is a change to the product (issue 19): `product.variants`
 * keeps a summary of them, which statement triggers on `variant` refresh for the products a
 * statement touched (one UPDATE per statement, so a feed batch stays set-based), and the version
 * triggers record it as the field `variants`. Variants written in the transaction that made the
 * current version join it (a new product is one version with its variants), which needs one
 * amendment of an append-only row: only `product_version_amend`, run as the table's owner, may.
 * Revert leaves variants alone (a sku cannot be un-created, decision 0035): the version's
 * `state` does not hold them.
 */
export class VariantVersions1740025000000 implements MigrationInterface {
  name = 'VariantVersions1740025000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    const q = (sql: string) => queryRunner.query(sql.replaceAll('%SCHEMA%', s));
    await q(`ALTER TABLE "%SCHEMA%"."product" ADD COLUMN variants text NOT NULL DEFAULT ''`);
    // Before the triggers learn the column: today's variants are no change, so no versions.
    await q(`UPDATE "%SCHEMA%"."product" p SET variants = ${summary('p')}`);
    await q(`
      CREATE FUNCTION "%SCHEMA%".product_version_amend(p_products uuid[], p_versions int[], p_from text[], p_to text[]) RETURNS void
        LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$
        UPDATE "%SCHEMA%".product_version pv SET changes =
          CASE WHEN pv.changes @> '[{"field": "variants"}]'
               THEN (SELECT jsonb_agg(CASE WHEN e->>'field' = 'variants' THEN jsonb_set(e, '{to}', to_jsonb(a.variants_to)) ELSE e END ORDER BY i)
                       FROM jsonb_array_elements(pv.changes) WITH ORDINALITY AS x(e, i))
               ELSE pv.changes || jsonb_build_array(jsonb_build_object('field', 'variants', 'from', a.variants_from, 'to', a.variants_to)) END
          FROM unnest(p_products, p_versions, p_from, p_to) AS a(product_id, version, variants_from, variants_to)
         WHERE pv.product_id = a.product_id AND pv.version = a.version
      $$`);
    for (const sql of versionFunctions(true)) await q(sql);

    // The variants' products, refreshed once per statement; a product whose summary is unchanged is not written.
    const refresh = (rows: string) => `
      UPDATE "%SCHEMA%".product p SET variants = c.variants
        FROM (SELECT p2.id, ${summary('p2')} AS variants FROM "%SCHEMA%".product p2 WHERE p2.id IN (${rows})) c
       WHERE p.id = c.id AND p.variants IS DISTINCT FROM c.variants`;
    await q(`
      CREATE FUNCTION "%SCHEMA%".product_variants_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN ${refresh('SELECT product_id FROM variants_new')};
        ELSIF TG_OP = 'UPDATE' THEN ${refresh('SELECT product_id FROM variants_new UNION SELECT product_id FROM variants_old')};
        ELSE ${refresh('SELECT product_id FROM variants_old')};
        END IF;
        RETURN NULL;
      END $$`);
    await q(`CREATE TRIGGER product_variants_insert AFTER INSERT ON "%SCHEMA%"."variant" REFERENCING NEW TABLE AS variants_new FOR EACH STATEMENT EXECUTE FUNCTION "%SCHEMA%".product_variants_refresh()`);
    await q(
      `CREATE TRIGGER product_variants_update AFTER UPDATE ON "%SCHEMA%"."variant" REFERENCING OLD TABLE AS variants_old NEW TABLE AS variants_new FOR EACH STATEMENT EXECUTE FUNCTION "%SCHEMA%".product_variants_refresh()`,
    );
    await q(`CREATE TRIGGER product_variants_delete AFTER DELETE ON "%SCHEMA%"."variant" REFERENCING OLD TABLE AS variants_old FOR EACH STATEMENT EXECUTE FUNCTION "%SCHEMA%".product_variants_refresh()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    const q = (sql: string) => queryRunner.query(sql.replaceAll('%SCHEMA%', s));
    for (const trigger of ['product_variants_insert', 'product_variants_update', 'product_variants_delete']) await q(`DROP TRIGGER ${trigger} ON "%SCHEMA%"."variant"`);
    await q(`DROP FUNCTION "%SCHEMA%".product_variants_refresh()`);
    for (const sql of versionFunctions(false)) await q(sql);
    await q(`DROP FUNCTION "%SCHEMA%".product_version_amend(uuid[], int[], text[], text[])`);
    await q(`ALTER TABLE "%SCHEMA%"."product" DROP COLUMN variants`);
  }
}
