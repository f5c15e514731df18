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
          input jsonb
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
      // Secret columns are masked, long values cut: a record says what changed, it is not a copy.
      await queryRunner.query(`
        CREATE FUNCTION "${s}".audit_redact(j jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
          SELECT coalesce(jsonb_object_agg(key, CASE
            WHEN key ~* '${SECRET_COLUMNS}' THEN '"[redacted]"'::jsonb
            WHEN jsonb_typeof(value) = 'string' AND length(value #>> '{}') > 500 THEN to_jsonb(left(value #>> '{}', 500) || '…')
            WHEN jsonb_typeof(value) IN ('object', 'array') AND length(value::text) > 2000 THEN to_jsonb('[' || length(value::text) || ' bytes]')
            ELSE value END), '{}'::jsonb)
          FROM jsonb_each(j)
        $$`);
      await queryRunner.query(`
        CREATE FUNCTION "${s}".audit_capture() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          audit text := current_setting('app.audit_id', true);
          n int;
          old_j jsonb;
          new_j jsonb;
          b jsonb;
          a jsonb;
          j jsonb;
        BEGIN
          IF audit IS NULL OR audit = '' THEN RETURN NULL; END IF;
          n := coalesce(nullif(current_setting('app.audit_n', true), ''), '0')::int + 1;
          PERFORM set_config('app.audit_n', n::text, true);
          IF n > ${MAX_CHANGES_PER_TRANSACTION} THEN RETURN NULL; END IF;
          IF TG_OP <> 'INSERT' THEN old_j := "${s}".audit_redact(to_jsonb(OLD)); END IF;
          IF TG_OP <> 'DELETE' THEN new_j := "${s}".audit_redact(to_jsonb(NEW)); END IF;
          IF TG_OP = 'UPDATE' THEN
            SELECT jsonb_object_agg(o.key, o.value), jsonb_object_agg(o.key, nw.value) INTO b, a
              FROM jsonb_each(old_j) o JOIN jsonb_each(new_j) nw ON nw.key = o.key
              WHERE o.value IS DISTINCT FROM nw.value;
            IF b IS NULL THEN RETURN NULL; END IF;
          ELSE
            b := old_j;
            a := new_j;
          END IF;
          j := coalesce(new_j, old_j);
          INSERT INTO "${s}".audit_change (audit_id, tenant_id, entity_type, entity_id, action, before, after)
          VALUES (audit::uuid, coalesce(nullif(j->>'tenant_id', '')::uuid, nullif(current_setting('app.tenant_id', true), '')::uuid),
                  TG_TABLE_NAME, coalesce(j->>'id', j->>'sku', j->>'key', j->>'event_id'), lower(TG_OP), b, a);
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
      await queryRunner.query(`DROP FUNCTION "${s}".audit_redact(jsonb)`);
      await queryRunner.query(`DROP TABLE "${s}"."audit_change"`);
      await queryRunner.query(`DROP TABLE "${s}"."audit_log"`);
    }
  };
}

/** Tables whose writes are no change of the tenant's data: bookkeeping of the machinery itself. */
const NOT_AUDITED = ['migrations', 'audit_log', 'audit_change', 'outbox', 'outbox_event', 'processed_event', 'typeorm_metadata'];

/**
 * Puts `audit_capture` on every table of the service's schema that lacks it (AFTER each row is
 * inserted, updated or deleted). Run at every start, after the migrations: a table a later
 * migration adds is audited from its first start, with no code of its own.
 */
export async function attachAuditCapture(query: (sql: string) => Promise<unknown>, schema: string): Promise<void> {
  const skip = NOT_AUDITED.map((t) => `'${t}'`).join(', ');
  await query(`
    DO $$
    DECLARE t text;
    BEGIN
      IF to_regprocedure('"${schema}".audit_capture()') IS NULL THEN RETURN; END IF;
      FOR t IN
        SELECT c.relname FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
        WHERE ns.nspname = '${schema}' AND c.relkind IN ('r', 'p') AND c.relname NOT IN (${skip})
          AND NOT EXISTS (SELECT 1 FROM pg_trigger tg WHERE tg.tgrelid = c.oid AND tg.tgname = 'audit_capture')
      LOOP
        EXECUTE format('CREATE TRIGGER audit_capture AFTER INSERT OR UPDATE OR DELETE ON %I.%I FOR EACH ROW EXECUTE FUNCTION %I.audit_capture()', '${schema}', t, '${schema}');
      END LOOP;
    END $$`);
}
