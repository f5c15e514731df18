import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/**
 * Language-aware stemming from the tenant's locale (issue 15).
 *
 * - `search_language`: the text search configuration (`english`, `german` …) of each tenant whose
 *   locale has a stemmer, the catalog's copy of `tenant.tenant.locale-set` (lib/search-language.ts).
 * - A trigger on the search row adds the stems of its document's words (weight D, below every
 *   word as written) whenever the row is written (on INSERT: see below). It is named to run after the attributes' trigger
 *   (triggers of one event run in name order), so attribute and option values are stemmed too, and
 *   it composes with whichever version of `refresh_product_search` writes the row.
 * - `storefront_search_query` adds, for each word of a query, its stem in the tenant's language
 *   beside the word as a prefix, its likely typos and its synonyms: "hike" finds "Hiking Boots".
 *
 * The table is under the tenant policy, not forced: the consumer writes it under the policy as the
 * application role, the search functions read it as the owner (decision 0018).
 */
export class SearchLanguage1740050000001 implements MigrationInterface {
  name = 'SearchLanguage1740050000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    const schemaOf = async (name: string) =>
      ((await queryRunner.query(`SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1`, [name])) as { schema: string }[])[0]!.schema;
    // Both were made available by the storefront-search migration.
    const ext = await schemaOf('unaccent');
    const trgm = await schemaOf('pg_trgm');
    const fold = (expr: string) => `lower("${ext}".unaccent('"${ext}".unaccent'::regdictionary, coalesce(${expr}, '')))`;

    await queryRunner.query(`CREATE TABLE "${s}"."search_language" (tenant_id uuid PRIMARY KEY, config regconfig NOT NULL)`);
    await enableTenantIsolation(queryRunner, [{ table: 'search_language' }]);
    await queryRunner.query(`ALTER TABLE "${s}"."search_language" NO FORCE ROW LEVEL SECURITY`);

    await queryRunner.query(`
      CREATE FUNCTION "${s}".product_search_entry_stems() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
      DECLARE
        cfg regconfig;
      BEGIN
        SELECT l.config INTO cfg FROM "${s}".search_language l WHERE l.tenant_id = NEW.tenant_id;
        IF cfg IS NOT NULL AND NEW.document <> ''::tsvector THEN
          NEW.document := NEW.document || setweight(to_tsvector(cfg, array_to_string(tsvector_to_array(NEW.document), ' ')), 'D');
        END IF;
        RETURN NEW;
      END $$`);
    // On INSERT only, this one and the attributes' (until now also on UPDATE): every writer of the
    // row is refresh_product_search's INSERT … ON CONFLICT DO UPDATE SET document = EXCLUDED.document,
    // and EXCLUDED already carries what the INSERT triggers added; adding it again on the UPDATE
    // gave a refreshed row a second copy of its attribute words (and would of its stems), so a
    // row refreshed twice differed from one written once (test/e2e/replay.test.ts).
    await queryRunner.query(`
      CREATE TRIGGER product_search_entry_stems BEFORE INSERT ON "${s}"."product_search_entry"
        FOR EACH ROW EXECUTE FUNCTION "${s}".product_search_entry_stems()`);
    await queryRunner.query(`DROP TRIGGER product_search_entry_attributes ON "${s}"."product_search_entry"`);
    await queryRunner.query(`
      CREATE TRIGGER product_search_entry_attributes BEFORE INSERT ON "${s}"."product_search_entry"
        FOR EACH ROW EXECUTE FUNCTION "${s}".product_search_entry_attributes()`);

    // As in the storefront-search migration, plus each word's stem in the tenant's language.
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "${s}".storefront_search_query(query text) RETURNS tsquery
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
      DECLARE
        tenant uuid := nullif(current_setting('app.tenant_id', true), '')::uuid;
        cfg regconfig := (SELECT l.config FROM "${s}".search_language l WHERE l.tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
        tsq tsquery;
        alt tsquery;
        stem tsquery;
        w text;
        t text;
      BEGIN
        FOR w IN SELECT DISTINCT x FROM unnest(tsvector_to_array(to_tsvector('simple', ${fold('query')}))) AS x LIMIT 8 LOOP
          alt := to_tsquery('simple', quote_literal(w) || ':*');
          IF cfg IS NOT NULL THEN
            -- A stop word of the language has no stem: the word as a prefix still counts.
            stem := to_tsquery(cfg, quote_literal(w));
            IF numnode(stem) > 0 THEN alt := alt || stem; END IF;
          END IF;
          IF length(w) >= 4 THEN
            FOR t IN SELECT st.term FROM "${s}".search_term st
                      WHERE st.tenant_id = tenant AND st.term OPERATOR("${trgm}".%) w AND "${trgm}".similarity(st.term, w) >= 0.45 AND st.term <> w
                      ORDER BY "${trgm}".similarity(st.term, w) DESC LIMIT 3 LOOP
              alt := alt || to_tsquery('simple', quote_literal(t));
            END LOOP;
          END IF;
          FOR t IN SELECT sy.synonym FROM "${s}".search_synonym sy WHERE sy.tenant_id = tenant AND sy.term = w LOOP
            alt := alt || phraseto_tsquery('simple', t);
          END LOOP;
          tsq := CASE WHEN tsq IS NULL THEN alt ELSE tsq && alt END;
        END LOOP;
        RETURN tsq;
      END $$`);
    await queryRunner.query(`REVOKE ALL ON FUNCTION "${s}".storefront_search_query(text) FROM PUBLIC`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    await queryRunner.query(`DROP TRIGGER product_search_entry_stems ON "${s}"."product_search_entry"`);
    await queryRunner.query(`DROP TRIGGER product_search_entry_attributes ON "${s}"."product_search_entry"`);
    await queryRunner.query(`
      CREATE TRIGGER product_search_entry_attributes BEFORE INSERT OR UPDATE ON "${s}"."product_search_entry"
        FOR EACH ROW EXECUTE FUNCTION "${s}".product_search_entry_attributes()`);
    await queryRunner.query(`DROP FUNCTION "${s}".product_search_entry_stems()`);
    await queryRunner.query(`DROP TABLE "${s}"."search_language"`);
    // storefront_search_query keeps the stems' lookup: with no search_language table it would fail,
    // so this down step is only for a schema being dropped with its data.
  }
}
