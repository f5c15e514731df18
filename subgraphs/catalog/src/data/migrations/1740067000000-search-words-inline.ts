import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A search row's attribute and option words and its stems are computed in `refresh_product_search`'s
 * one INSERT … SELECT, no longer by two row triggers (issue 23: a 100,000-row feed fully visible sooner).
 *
 * The refresh writes every search row (a feed batch, an attribute change, a language change, a
 * rebuild); its BEFORE INSERT triggers then ran, per row, two lookups (the product's attributes,
 * its options) and a third (the tenant's language): ~1,500 lookups for a feed batch of 500 new
 * products, the largest part of its refresh after the row's own indexes. Now the attribute and option
 * words are a lateral join of the INSERT and the language one join, so a batch's rows cost the same
 * statement, set-based. The document is the same, term for term and position for position: the
 * title (A), brand and category names (B), description, skus and barcodes (C), then the attribute
 * and option values (C), then the stems of all of it in the tenant's language (D) — the order the
 * triggers appended them in (attributes before stems, by name).
 */
export class SearchWordsInline1740067000000 implements MigrationInterface {
  name = 'SearchWordsInline1740067000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    const fold = await folder(queryRunner);
    await queryRunner.query(`DROP TRIGGER product_search_entry_attributes ON "${s}"."product_search_entry"`);
    await queryRunner.query(`DROP TRIGGER product_search_entry_stems ON "${s}"."product_search_entry"`);
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "${s}".refresh_product_search(ids uuid[]) RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        INSERT INTO "${s}".product_search_entry AS e (product_id, tenant_id, seq, published, search_text, brand, category_id, category_path, title, created_at, archived, document)
        SELECT d.id, d.tenant_id, d.seq, d.published, d.search_text, d.brand, d.category_id, d.category_path, d.title, d.created_at, d.archived,
               CASE WHEN l.config IS NOT NULL AND d.document <> ''::tsvector
                    THEN d.document || setweight(to_tsvector(l.config, array_to_string(tsvector_to_array(d.document), ' ')), 'D')
                    ELSE d.document END
          FROM (
            SELECT p.id, p.tenant_id, p.seq, p.published, concat_ws(' ', p.title, p.brand, p.description, c.name, v.skus) AS search_text,
                   p.brand, p.category_id, coalesce(c.path_ids, '{}') AS category_path, p.title, p.created_at, p.archived_at IS NOT NULL AS archived,
                   setweight(to_tsvector('simple', ${fold('p.title')}), 'A')
                     || setweight(to_tsvector('simple', ${fold(`concat_ws(' ', p.brand, c.names)`)}), 'B')
                     || setweight(to_tsvector('simple', ${fold(`concat_ws(' ', p.description, v.skus, v.barcodes)`)}), 'C')
                     || CASE WHEN w.words <> '' THEN setweight(to_tsvector('simple', ${fold('w.words')}), 'C') ELSE ''::tsvector END AS document
              FROM "${s}".product p
              LEFT JOIN LATERAL (
                SELECT c.name, c.path_ids, (SELECT string_agg(a.name, ' ') FROM "${s}".category a WHERE a.tenant_id = c.tenant_id AND a.id = ANY(c.path_ids)) AS names
                  FROM "${s}".category c WHERE c.tenant_id = p.tenant_id AND c.id = p.category_id) c ON true
              LEFT JOIN LATERAL (
                SELECT string_agg(v.sku, ' ' ORDER BY v.position) AS skus, string_agg(v.barcode, ' ') AS barcodes
                  FROM "${s}".variant v WHERE v.tenant_id = p.tenant_id AND v.product_id = p.id) v ON true
              CROSS JOIN LATERAL (
                SELECT concat_ws(' ',
                         (SELECT string_agg(a.value_text, ' ') FROM "${s}".product_attribute a WHERE a.tenant_id = p.tenant_id AND a.product_id = p.id),
                         (SELECT string_agg(o.value, ' ') FROM jsonb_array_elements(p.options) x, jsonb_array_elements_text(x->'values') o(value))) AS words) w
             WHERE p.id = ANY(ids)
          ) d
          LEFT JOIN "${s}".search_language l ON l.tenant_id = d.tenant_id
        ON CONFLICT (product_id) DO UPDATE SET published = EXCLUDED.published, search_text = EXCLUDED.search_text, brand = EXCLUDED.brand,
          category_id = EXCLUDED.category_id, category_path = EXCLUDED.category_path, title = EXCLUDED.title, archived = EXCLUDED.archived, document = EXCLUDED.document;
        INSERT INTO "${s}".search_term (tenant_id, term)
        SELECT DISTINCT e.tenant_id, w.term FROM "${s}".product_search_entry e, unnest(tsvector_to_array(e.document)) AS w(term)
         WHERE e.product_id = ANY(ids) AND length(w.term) BETWEEN 3 AND 40
        ON CONFLICT DO NOTHING;
      $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    const fold = await folder(queryRunner);
    // The refresh as the storefront-search migration wrote it, and the two triggers as the search-language one left them.
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "${s}".refresh_product_search(ids uuid[]) RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        INSERT INTO "${s}".product_search_entry AS e (product_id, tenant_id, seq, published, search_text, brand, category_id, category_path, title, created_at, archived, document)
        SELECT p.id, p.tenant_id, p.seq, p.published, concat_ws(' ', p.title, p.brand, p.description, c.name, v.skus),
               p.brand, p.category_id, coalesce(c.path_ids, '{}'), p.title, p.created_at, p.archived_at IS NOT NULL,
               setweight(to_tsvector('simple', ${fold('p.title')}), 'A')
                 || setweight(to_tsvector('simple', ${fold(`concat_ws(' ', p.brand, c.names)`)}), 'B')
                 || setweight(to_tsvector('simple', ${fold(`concat_ws(' ', p.description, v.skus, v.barcodes)`)}), 'C')
          FROM "${s}".product p
          LEFT JOIN LATERAL (
            SELECT c.name, c.path_ids, (SELECT string_agg(a.name, ' ') FROM "${s}".category a WHERE a.tenant_id = c.tenant_id AND a.id = ANY(c.path_ids)) AS names
              FROM "${s}".category c WHERE c.tenant_id = p.tenant_id AND c.id = p.category_id) c ON true
          LEFT JOIN LATERAL (
            SELECT string_agg(v.sku, ' ' ORDER BY v.position) AS skus, string_agg(v.barcode, ' ') AS barcodes
              FROM "${s}".variant v WHERE v.tenant_id = p.tenant_id AND v.product_id = p.id) v ON true
         WHERE p.id = ANY(ids)
        ON CONFLICT (product_id) DO UPDATE SET published = EXCLUDED.published, search_text = EXCLUDED.search_text, brand = EXCLUDED.brand,
          category_id = EXCLUDED.category_id, category_path = EXCLUDED.category_path, title = EXCLUDED.title, archived = EXCLUDED.archived, document = EXCLUDED.document;
        INSERT INTO "${s}".search_term (tenant_id, term)
        SELECT DISTINCT e.tenant_id, w.term FROM "${s}".product_search_entry e, unnest(tsvector_to_array(e.document)) AS w(term)
         WHERE e.product_id = ANY(ids) AND length(w.term) BETWEEN 3 AND 40
        ON CONFLICT DO NOTHING;
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER product_search_entry_stems BEFORE INSERT ON "${s}"."product_search_entry"
        FOR EACH ROW EXECUTE FUNCTION "${s}".product_search_entry_stems()`);
    await queryRunner.query(`
      CREATE TRIGGER product_search_entry_attributes BEFORE INSERT ON "${s}"."product_search_entry"
        FOR EACH ROW EXECUTE FUNCTION "${s}".product_search_entry_attributes()`);
  }
}

/** `fold(expr)`: lower-cased and unaccented, as every search text is (the storefront-search migration's). */
async function folder(queryRunner: QueryRunner): Promise<(expr: string) => string> {
  const [{ schema: ext }] = (await queryRunner.query(
    `SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'unaccent'`,
  )) as [{ schema: string }];
  return (expr) => `lower("${ext}".unaccent('"${ext}".unaccent'::regdictionary, coalesce(${expr}, '')))`;
}
