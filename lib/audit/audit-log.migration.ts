import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from '../db/row-level-security.migration.js';

/** Changes recorded per transaction of one mutation; the rest are counted, not kept (a bulk write). */
export const MAX_CHANGES_PER_TRANSACTION = 200;

/** Column names whose values are never recorded (API key hashes, signing secrets, passwords, tokens). */
export const SECRET_COLUMNS = '(secret|password|token|hash|credential|signature|private)';

/**
 * A subgraph's audit log: `audit_log` (one row per mutation: who, role, tenant, operation, target
 * ids, redacted input, request id, time) and `audit_change` (one row per table row the mutation
 * wrote: before → after), both append-only for the application role and under tenant isolation.
 * `audit_capture()` is the trigger that fills `audit_change` inside the mutation's own transaction
 * (it does nothing outside a mutation: consumers, relays and workers set no `app.audit_id`);
 * `attachAuditCapture` puts it on every table at start, so a new table is covered without a line.
 */
export function auditLogMigration(name: string): new () => MigrationInterface {
  return class implements MigrationInterface {
    name = name;

    async up(queryRunner: QueryRunner): Promise<void> {
      const s = queryRunner.connection.driver.schema;
      await queryRunner.query(`
        CREATE TABLE "${s}"."audit_log" (
          id uuid PRIMARY KEY,
          tenant_id uuid,
          occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
          request_id text NOT NULL,
          actor text NOT NULL,
          roles text NOT NULL,
          operation text NOT NULL,
          source text NOT NULL,
          target_ids text[] NOT NULL DEFAULT '{}',
          input jsonb,
          -- Rows its (first) transaction wrote, kept or not (a transaction keeps the first ${MAX_CHANGES_PER_TRANSACTION}).
          changed_rows int NOT NULL DEFAULT 0
        )`);
      await queryRunner.query(`CREATE INDEX audit_log_time ON "${s}"."audit_log" (tenant_id, occurred_at DESC, id DESC)`);
      await queryRunner.query(`CREATE INDEX audit_log_actor ON "${s}"."audit_log" (tenant_id, actor, occurred_at DESC)`);
      await queryRunner.query(`
        CREATE TABLE "${s}"."audit_change" (
          seq bigserial PRIMARY KEY,
          audit_id uuid NOT NULL,
          tenant_id uuid,
          entity_type text NOT NULL,
          entity_id text,
          action text NOT NULL,
          before jsonb,
          after jsonb
        )`);
      await queryRunner.query(`CREATE INDEX audit_change_audit ON "${s}"."audit_change" (audit_id)`);
      await queryRunner.query(`CREATE INDEX audit_change_entity ON "${s}"."audit_change" (tenant_id, entity_type, entity_id)`);
      // The trigger's arguments name the table's secret columns (`s:<column>`: shown as
      // `[redacted]`) and its long ones (`l:<column>`: cut at 500 characters); see attachAuditCapture.
      await queryRunner.query(`
        CREATE FUNCTION "${s}".audit_capture() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          audit text := current_setting('app.audit_id', true);
          n int;
          row_j jsonb;
          b jsonb;
          a jsonb;
          arg text;
          col text;
        BEGIN
          IF audit IS NULL OR audit = '' THEN RETURN NULL; END IF;
          n := coalesce(nullif(current_setting('app.audit_n', true), ''), '0')::int + 1;
          PERFORM set_config('app.audit_n', n::text, true);
          IF n > ${MAX_CHANGES_PER_TRANSACTION} THEN RETURN NULL; END IF;
          IF TG_OP <> 'INSERT' THEN b := to_jsonb(OLD); END IF;
          IF TG_OP <> 'DELETE' THEN a := to_jsonb(NEW); END IF;
          row_j := coalesce(a, b);
          IF TG_OP = 'UPDATE' THEN
            SELECT jsonb_object_agg(o.key, o.value), jsonb_object_agg(o.key, a -> o.key) INTO b, a
              FROM jsonb_each(b) o WHERE o.value IS DISTINCT FROM a -> o.key;
            IF b IS NULL THEN RETURN NULL; END IF;
          END IF;
          FOREACH arg IN ARRAY coalesce(TG_ARGV, '{}'::text[]) LOOP
            col := substr(arg, 3);
            IF left(arg, 2) = 's:' THEN
              IF b ? col THEN b := jsonb_set(b, ARRAY[col], '"[redacted]"'); END IF;
              IF a ? col THEN a := jsonb_set(a, ARRAY[col], '"[redacted]"'); END IF;
            ELSE
              IF length(b ->> col) > 500 THEN b := jsonb_set(b, ARRAY[col], to_jsonb(left(b ->> col, 500) || '…')); END IF;
              IF length(a ->> col) > 500 THEN a := jsonb_set(a, ARRAY[col], to_jsonb(left(a ->> col, 500) || '…')); END IF;
            END IF;
          END LOOP;
          INSERT INTO "${s}".audit_change (audit_id, tenant_id, entity_type, entity_id, action, before, after)
          VALUES (audit::uuid, coalesce(nullif(row_j->>'tenant_id', '')::uuid, nullif(current_setting('app.tenant_id', true), '')::uuid),
                  TG_TABLE_NAME, coalesce(row_j->>'id', row_j->>'sku', row_j->>'key', row_j->>'event_id'), lower(TG_OP), b, a);
          RETURN NULL;
        END $$`);
      await enableTenantIsolation(queryRunner, [
        { table: 'audit_log', appendOnly: true },
        { table: 'audit_change', appendOnly: true },
      ]);
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      const s = queryRunner.connection.driver.schema;
      await queryRunner.query(`DROP FUNCTION "${s}".audit_capture() CASCADE`);
      await queryRunner.query(`DROP TABLE "${s}"."audit_change"`);
      await queryRunner.query(`DROP TABLE "${s}"."audit_log"`);
    }
  };
}

/** Tables whose writes are no change of the tenant's data: bookkeeping of the machinery itself. */
const NOT_AUDITED = ['migrations', 'audit_log', 'audit_change', 'outbox', 'processed_event', 'idempotency', 'typeorm_metadata'];

/**
 * Puts `audit_capture` on every table of the service's schema (AFTER each row is inserted,
 * updated or deleted), its arguments naming the table's secret columns (by name: secret,
 * password, token, hash, …) and long ones (text, json, bytea). Run after the migrations whenever
 * the service's migrations or this statement changed since its schema was last opened (see
 * `openServiceDatabase`): a table a later migration adds, or a column, is covered from its first
 * start with no code of its own (a trigger whose columns changed is made again; its comment keeps them).
 */
export async function attachAuditCapture(query: (sql: string) => Promise<unknown>, schema: string): Promise<void> {
  await query(auditCaptureSql(schema));
}

/** The statement `attachAuditCapture` runs (a later start compares it, lib/db/data-source.ts). */
export function auditCaptureSql(schema: string): string {
  const skip = NOT_AUDITED.map((t) => `'${t}'`).join(', ');
  return `
    DO $$
    DECLARE
      t record;
      args text;
    BEGIN
      IF to_regprocedure('"${schema}".audit_capture()') IS NULL THEN RETURN; END IF;
      -- Replicas of a service may start together: one at a time attaches.
      PERFORM pg_advisory_xact_lock(hashtext('audit_capture:${schema}'));
      FOR t IN
        SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
        WHERE ns.nspname = '${schema}' AND c.relkind IN ('r', 'p') AND c.relname NOT IN (${skip})
      LOOP
        SELECT coalesce(string_agg(quote_literal(CASE WHEN a.attname ~* '${SECRET_COLUMNS}' THEN 's:' ELSE 'l:' END || a.attname), ', ' ORDER BY a.attnum), '')
          INTO args
          FROM pg_attribute a
          WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
            AND (a.attname ~* '${SECRET_COLUMNS}' OR a.atttypid IN ('text'::regtype, 'jsonb'::regtype, 'json'::regtype, 'bytea'::regtype, 'character varying'::regtype));
        IF EXISTS (SELECT 1 FROM pg_trigger tg WHERE tg.tgrelid = t.oid AND tg.tgname = 'audit_capture'
                   AND obj_description(tg.oid, 'pg_trigger') IS NOT DISTINCT FROM args) THEN
          CONTINUE;
        END IF;
        EXECUTE format('DROP TRIGGER IF EXISTS audit_capture ON %I.%I', '${schema}', t.relname);
        EXECUTE format('CREATE TRIGGER audit_capture AFTER INSERT OR UPDATE OR DELETE ON %I.%I FOR EACH ROW EXECUTE FUNCTION %I.audit_capture(%s)', '${schema}', t.relname, '${schema}', args);
        EXECUTE format('COMMENT ON TRIGGER audit_capture ON %I.%I IS %L', '${schema}', t.relname, args);
      END LOOP;
    END $$`;
}
