import { createHash } from 'node:crypto';
import { Kind, parse } from 'graphql';
import { inSystemTransaction, inTenantTransaction } from '../../../../lib/db/data-source.js';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { appError, badInput, notFound } from '../../../../lib/errors.js';
import { isUuid } from '../../../../lib/graphql/context.js';
import { requireRole } from '../../../../lib/graphql/roles.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';

/** The bounds of trusted documents (docs/limits.md). */
export const PERSISTED_DOCUMENT_BOUNDS = {
  /** Documents one app of a tenant may have published. */
  maxDocumentsPerApp: 1_000,
  /** Apps one tenant may publish documents for. */
  maxAppsPerTenant: 20,
} as const;

const APP = /^[A-Za-z0-9][\w.-]{0,63}$/;
const TYPES = ['query', 'mutation', 'subscription'];

/** The id a manifest gives, without Apollo's optional `sha256:` prefix. */
const documentIdOf = (id: string) => (id.startsWith('sha256:') ? id.slice('sha256:'.length) : id);

/**
 * Trusted documents: the operations a tenant's apps published (Apollo's persisted-query manifest,
 * graphql-codegen's persisted documents), each by the SHA-256 of its body. Publishing adds to what
 * an app has and never changes a published document (its id is its body's hash), so the gateway
 * may keep a document it found for as long as it likes.
 */
export class PersistedDocumentService extends TenantScopedService {
  async publish(
    ctx: SubgraphContext,
    input: { app: string; tenantId?: string | null; operations: readonly { id: string; body: string; name?: string | null; type?: string | null }[] },
  ): Promise<{ app: string; count: number }> {
    const role = requireRole(ctx, 'platform', 'admin');
    let tenantId: string;
    if (role === 'platform') {
      if (!input.tenantId) throw badInput('tenantId is required for platform', 'tenantId');
      tenantId = input.tenantId;
    } else {
      if (input.tenantId && input.tenantId !== ctx.tenantId) throw appError('FORBIDDEN', 'An admin publishes for its own tenant only.');
      tenantId = ctx.tenantId!;
    }
    if (!APP.test(input.app)) throw badInput('app is 1-64 letters, digits, dots, dashes or underscores, starting with a letter or digit', 'app');
    if (input.operations.length === 0) throw badInput('operations names at least one document', 'operations');
    const documents = new Map<string, { body: string; name: string | null; type: string | null }>();
    input.operations.forEach((operation, index) => {
      const field = `operations[${index}]`;
      const id = documentIdOf(operation.id);
      if (!/^[0-9a-f]{64}$/.test(id)) throw badInput(`${field}.id must be the SHA-256 of the body: 64 lower-case hexadecimal digits`, `${field}.id`);
      if (createHash('sha256').update(operation.body).digest('hex') !== id) throw badInput(`${field}.id is not the SHA-256 of its body`, `${field}.id`);
      if (operation.type != null && !TYPES.includes(operation.type)) throw badInput(`${field}.type is one of ${TYPES.join(', ')}`, `${field}.type`);
      let operations: number;
      try {
        operations = parse(operation.body).definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION).length;
      } catch (error) {
        throw badInput(`${field}.body is not GraphQL: ${(error as Error).message}`, `${field}.body`);
      }
      if (operations !== 1) throw badInput(`${field}.body must hold exactly one operation`, `${field}.body`);
      documents.set(id, { body: operation.body, name: operation.name ?? null, type: operation.type ?? null });
    });
    if (!isUuid(tenantId)) throw notFound(`no tenant ${tenantId}`);
    const count = await inTenantTransaction(this.dataSource, tenantId, async (m) => {
      const table = `"${m.connection.driver.schema}"."persisted_document"`;
      const [{ exists }] = (await m.query(`SELECT EXISTS (SELECT 1 FROM "${m.connection.driver.schema}"."tenant" WHERE id = $1) AS exists`, [tenantId])) as [{ exists: boolean }];
      if (!exists) throw notFound(`no tenant ${tenantId}`);
      // One publisher of an app at a time: the bounds below count what is committed.
      await m.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`persisted_document:${tenantId}`]);
      for (const [id, document] of documents) {
        await m.query(
          `INSERT INTO ${table} (tenant_id, app, document_id, body, name, type) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, app, document_id) DO NOTHING`,
          [tenantId, input.app, id, document.body, document.name, document.type],
        );
      }
      const [{ documents: kept, apps }] = (await m.query(
        `SELECT count(*) FILTER (WHERE app = $2)::int AS documents, count(DISTINCT app)::int AS apps FROM ${table} WHERE tenant_id = $1`,
        [tenantId, input.app],
      )) as [{ documents: number; apps: number }];
      if (kept > PERSISTED_DOCUMENT_BOUNDS.maxDocumentsPerApp) {
        throw badInput(`an app keeps at most ${PERSISTED_DOCUMENT_BOUNDS.maxDocumentsPerApp} persisted documents; ${input.app} would have ${kept}`, 'operations');
      }
      if (apps > PERSISTED_DOCUMENT_BOUNDS.maxAppsPerTenant) throw badInput(`a tenant publishes documents for at most ${PERSISTED_DOCUMENT_BOUNDS.maxAppsPerTenant} apps`, 'app');
      return documents.size;
    });
    await this.afterCommit();
    return { app: input.app, count };
  }

  /** The gateway's lookup: a published document of the tenant (any app), by its id. */
  async find(ctx: SubgraphContext, tenantId: string, id: string): Promise<string | null> {
    requireRole(ctx, 'gateway');
    if (!isUuid(tenantId)) return null;
    return inSystemTransaction(this.dataSource, async (m) => {
      const rows = (await m.query(`SELECT body FROM "${m.connection.driver.schema}"."persisted_document" WHERE tenant_id = $1 AND document_id = $2 LIMIT 1`, [
        tenantId,
        documentIdOf(id),
      ])) as { body: string }[];
      return rows[0]?.body ?? null;
    });
  }
}
