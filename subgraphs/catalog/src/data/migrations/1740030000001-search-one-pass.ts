import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The storefront search statement (attributes-options-media's version) wrote every matched
 * product twice to a work table: `f0` (the matches) and `f` (the same rows with `fa`), both
 * MATERIALIZED. `f0` is now inlined into `f`, so the matches are materialized once; and the
 * search function runs with a `work_mem` that holds a 100,000-product result in memory instead
 * of spilling the work table and the facet aggregation to temporary files (4 MB, the default,
 * wrote 3,221 temporary blocks per browse-all call at 100k: decision 0040, bench:search's EXPLAIN).
 * The statement's text is otherwise unchanged, so this edits the stored definition in place.
 */
export class SearchOnePass1740030000001 implements MigrationInterface {
  name = 'SearchOnePass1740030000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await rewrite(queryRunner, 'WITH f0 AS MATERIALIZED (', 'WITH f0 AS NOT MATERIALIZED (');
    await queryRunner.query(`ALTER FUNCTION ${signature(queryRunner)} SET work_mem = '${SEARCH_WORK_MEM}'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER FUNCTION ${signature(queryRunner)} RESET work_mem`);
    await rewrite(queryRunner, 'WITH f0 AS NOT MATERIALIZED (', 'WITH f0 AS MATERIALIZED (');
  }
}

/** Memory a search may use per sort or hash before spilling to disk (10 concurrent searches: 10 × a few times this at most). */
const SEARCH_WORK_MEM = '32MB';

const signature = (queryRunner: QueryRunner) =>
  `"${queryRunner.connection.driver.schema!}".storefront_search(text, boolean, uuid, text[], uuid[], numeric, numeric, boolean, text, text, bigint, int, jsonb, boolean)`;

/** Replaces `from` (which must occur exactly once) in storefront_search_sql's stored definition. */
async function rewrite(queryRunner: QueryRunner, from: string, to: string): Promise<void> {
  const s = queryRunner.connection.driver.schema!;
  const [{ definition }] = (await queryRunner.query(`SELECT pg_get_functiondef($1::regprocedure) AS definition`, [`"${s}".storefront_search_sql(text)`])) as [{ definition: string }];
  if (definition.split(from).length !== 2) throw new Error(`storefront_search_sql is not the version this migration rewrites (no single "${from}")`);
  await queryRunner.query(definition.replace(from, to));
}
