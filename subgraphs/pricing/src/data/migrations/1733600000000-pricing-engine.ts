import type { MigrationInterface, QueryRunner } from 'typeorm';
import { disableTenantIsolation, enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

const TABLES = ['store_pricing', 'price_list', 'price_list_price', 'promotion', 'promotion_redemption', 'tax_rate', 'item_facts', 'price_boundary'];

/**
 * The pricing engine's rules (issue 16): per-store currency and tax mode, price lists with tiers
 * and schedules, promotions and coupons with their usage, tax rates, what pricing knows of each
 * sku from catalog events (brand, categories), and the schedule boundaries still to announce.
 */
export class PricingEngine1733600000000 implements MigrationInterface {
  name = 'PricingEngine1733600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."store_pricing" (
        tenant_id uuid NOT NULL,
        store_id uuid NOT NULL,
        currency_code char(3) NOT NULL,
        prices_include_tax boolean NOT NULL,
        PRIMARY KEY (tenant_id, store_id)
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."price_list" (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        name text NOT NULL,
        currency_code char(3) NOT NULL,
        store_ids uuid[] NOT NULL DEFAULT '{}',
        channel text,
        customer_group text,
        priority int NOT NULL DEFAULT 0,
        starts_at timestamptz,
        ends_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        CHECK (ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at)
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."price_list_price" (
        tenant_id uuid NOT NULL,
        price_list_id uuid NOT NULL,
        sku text NOT NULL,
        min_quantity int NOT NULL CHECK (min_quantity >= 1),
        amount numeric(19, 4) NOT NULL CHECK (amount >= 0),
        starts_at timestamptz,
        ends_at timestamptz,
        PRIMARY KEY (tenant_id, price_list_id, sku, min_quantity),
        FOREIGN KEY (tenant_id, price_list_id) REFERENCES "${s}"."price_list" (tenant_id, id) ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX price_list_price_sku ON "${s}"."price_list_price" (tenant_id, sku)`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."promotion" (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        name text NOT NULL,
        kind text NOT NULL,
        value text NOT NULL,
        currency_code char(3),
        skus text[] NOT NULL DEFAULT '{}',
        category_ids text[] NOT NULL DEFAULT '{}',
        brands text[] NOT NULL DEFAULT '{}',
        min_quantity int,
        min_subtotal numeric(19, 4),
        coupon_code text,
        starts_at timestamptz,
        ends_at timestamptz,
        usage_limit int,
        usage_count int NOT NULL DEFAULT 0,
        per_customer_limit int,
        stackable boolean NOT NULL DEFAULT false,
        priority int NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        CHECK (usage_limit IS NULL OR usage_count <= usage_limit)
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX promotion_coupon ON "${s}"."promotion" (tenant_id, coupon_code) WHERE coupon_code IS NOT NULL`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."promotion_redemption" (
        tenant_id uuid NOT NULL,
        quote_id uuid NOT NULL,
        promotion_id uuid NOT NULL,
        customer_id text,
        released_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, quote_id, promotion_id)
      )`);
    await queryRunner.query(`CREATE INDEX promotion_redemption_customer ON "${s}"."promotion_redemption" (tenant_id, promotion_id, customer_id) WHERE released_at IS NULL`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."tax_rate" (
        tenant_id uuid NOT NULL,
        store_id uuid NOT NULL,
        category text NOT NULL DEFAULT '',
        name text NOT NULL,
        rate numeric(7, 4) NOT NULL CHECK (rate >= 0 AND rate <= 100),
        PRIMARY KEY (tenant_id, store_id, category, name)
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."item_facts" (
        tenant_id uuid NOT NULL,
        sku text NOT NULL,
        brand text,
        category_ids text[] NOT NULL DEFAULT '{}',
        PRIMARY KEY (tenant_id, sku)
      )`);
    // One row per future moment a schedule changes some price; the scheduler claims due rows
    // (FOR UPDATE SKIP LOCKED), announces the prices that changed, and deletes them.
    await queryRunner.query(`
      CREATE TABLE "${s}"."price_boundary" (
        tenant_id uuid NOT NULL,
        at timestamptz NOT NULL,
        price_list_id uuid NOT NULL,
        PRIMARY KEY (tenant_id, price_list_id, at)
      )`);
    await queryRunner.query(`CREATE INDEX price_boundary_due ON "${s}"."price_boundary" (at)`);
    await enableTenantIsolation(queryRunner, TABLES.map((table) => ({ table })));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await disableTenantIsolation(queryRunner, TABLES.map((table) => ({ table })));
    for (const table of [...TABLES].reverse()) await queryRunner.query(`DROP TABLE "${s}"."${table}"`);
  }
}
