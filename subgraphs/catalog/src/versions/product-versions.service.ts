import type { EntityManager } from 'typeorm';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { badInput, notFound } from '../../../../lib/errors.js';
import { outboxOf } from '../../../../lib/events/outbox.js';
import { alignByKey } from '../../../../lib/graphql/batch.js';
import { isUuid } from '../../../../lib/graphql/context.js';
import { decodeCursor, pageSize, toConnection, type Connection } from '../../../../lib/graphql/pagination.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { CategoryEntity } from '../data/entities/category.entity.js';
import { ProductEntity } from '../data/entities/product.entity.js';
import { VariantEntity } from '../data/entities/variant.entity.js';

const emit = outboxOf('catalog');

/** A product's URL name (as `upsertProduct`'s). */
const HANDLE = /^(?=.{1,100}$)[a-z0-9]+(-[a-z0-9]+)*$/;
/** A schedule further out than this is refused: a typo (a wrong year) should not hide for years. */
const MAX_SCHEDULE_MS = 366 * 24 * 3_600_000;

export interface Change {
  field: string;
  from: string | null;
  to: string | null;
}

/** The product fields a version records and a draft may change. */
export interface StateView {
  title: string;
  handle: string | null;
  brand: string | null;
  description: string | null;
  categoryId: string | null;
  published: boolean;
}

export interface VersionView {
  version: number;
  changedAt: Date;
  changedBy: string;
  source: string;
  changes: Change[];
  state: StateView;
}

export interface DraftView extends Omit<StateView, 'published'> {
  changes: Change[];
  publishAt: Date | null;
  updatedBy: string;
  updatedAt: Date;
}

type DraftFields = Partial<Omit<StateView, 'published'>>;
const DRAFT_FIELDS = ['title', 'handle', 'brand', 'description', 'categoryId'] as const;

/**
 * Says who and which source the transaction's product writes come from: the versioning trigger
 * (migration ProductVersions) records them on each version. One round trip; set it before the write.
 */
export async function attributeChange(m: EntityManager, source: string, changedBy: string): Promise<void> {
  await m.query(`SELECT set_config('app.change_source', $1, true), set_config('app.changed_by', $2, true)`, [source, changedBy]);
}

/** Who a request acts as, for the record: the gateway's actor, else the caller's role. */
export const actorOf = (ctx: SubgraphContext): string => ctx.actor ?? `role:${ctx.roles[0] ?? 'none'}`;

const stateOf = (p: ProductEntity): StateView => ({ title: p.title, handle: p.handle, brand: p.brand, description: p.description, categoryId: p.categoryId, published: p.published });
const text = (value: unknown) => (value === null || value === undefined ? null : String(value));
const diff = (from: StateView, to: StateView): Change[] =>
  (Object.keys(to) as (keyof StateView)[]).filter((f) => text(from[f]) !== text(to[f])).map((field) => ({ field, from: text(from[field]), to: text(to[field]) }));

interface VersionRow {
  version: number;
  changed_at: Date;
  changed_by: string;
  source: string;
  changes: Change[];
  state: StateView;
}
const versionView = (r: VersionRow): VersionView => ({ version: r.version, changedAt: r.changed_at, changedBy: r.changed_by, source: r.source, changes: r.changes, state: r.state });

export interface DraftRow {
  fields: DraftFields;
  publish_at: Date | null;
  updated_by: string;
  updated_at: Date;
}

/** A product's versions, its revert, its draft and publishing it (now or on schedule). */
export class ProductVersionService extends TenantScopedService {
  versions(ctx: SubgraphContext, productId: string, args: { first?: number | null; after?: string | null }): Promise<Connection<VersionView>> {
    const limit = pageSize(args.first);
    const after = decodeCursor(args.after);
    if (after !== undefined && !/^\d{1,9}$/.test(after)) throw badInput('after is not a valid cursor', 'after');
    return this.tx(ctx, async (m, tenantId) => {
      // Newest first along the primary key (product_id, version): one index range, at any history length.
      const rows: VersionRow[] = await m.query(
        `SELECT version, changed_at, changed_by, source, changes, state FROM ${this.table('product_version')}
          WHERE product_id = $1 AND tenant_id = $2 AND ($3::int IS NULL OR version < $3) ORDER BY version DESC LIMIT $4`,
        [productId, tenantId, after ?? null, limit + 1],
      );
      return toConnection(rows.map(versionView), limit, (v) => String(v.version));
    });
  }

  version(ctx: SubgraphContext, productId: string, version: number): Promise<VersionView | null> {
    return this.tx(ctx, async (m, tenantId) => (isUuid(productId) ? ((await versionOf(m, tenantId, productId, version)) ?? null) : null));
  }

  /** Restores the fields of `version`: a new version (none when the product already has them). */
  async revert(ctx: SubgraphContext, productId: string, version: number): Promise<ProductEntity> {
    const product = await this.tx(ctx, async (m, tenantId) => {
      const current = await lockedProduct(m, tenantId, productId);
      const target = await versionOf(m, tenantId, productId, version);
      if (!target) throw notFound(`product ${productId} has no version ${version}`);
      await attributeChange(m, 'revert', actorOf(ctx));
      return writeProduct(m, tenantId, current, target.state);
    });
    await this.afterCommit();
    return product;
  }

  /** The drafts of these products, batched (a page of products asks for each one's draft). */
  draftsByProductIds(ctx: SubgraphContext, ids: readonly string[]): Promise<(DraftRow | null)[]> {
    return this.tx(ctx, async (m, tenantId) => {
      const valid = ids.filter(isUuid);
      const rows: (DraftRow & { product_id: string })[] = valid.length
        ? await m.query(`SELECT product_id, fields, publish_at, updated_by, updated_at FROM ${this.table('product_draft')} WHERE product_id = ANY($1) AND tenant_id = $2`, [valid, tenantId])
        : [];
      return alignByKey(ids, rows, (r) => r.product_id);
    });
  }

  async saveDraft(ctx: SubgraphContext, input: { id: string } & { [K in (typeof DRAFT_FIELDS)[number]]?: string | null }): Promise<ProductEntity> {
    const fields: DraftFields = {};
    for (const field of DRAFT_FIELDS) if (input[field] !== undefined) (fields as Record<string, string | null>)[field] = input[field] === null ? null : input[field]!.trim() || null;
    if ('title' in fields && !fields.title) throw badInput('title must not be empty', 'title');
    if ('handle' in fields && fields.handle !== null && !HANDLE.test(fields.handle!)) throw badInput('handle must be 1-100 lower-case letters, digits and single dashes', 'handle');
    if ('handle' in fields && fields.handle === null) throw badInput('a product keeps a handle', 'handle');
    return this.tx(ctx, async (m, tenantId) => {
      const product = await lockedProduct(m, tenantId, input.id);
      await checkFields(m, tenantId, product.id, fields);
      await m.query(
        `INSERT INTO ${this.table('product_draft')} (product_id, tenant_id, fields, updated_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (product_id) DO UPDATE SET fields = product_draft.fields || EXCLUDED.fields, updated_by = EXCLUDED.updated_by, updated_at = now()`,
        [product.id, tenantId, JSON.stringify(fields), actorOf(ctx)],
      );
      return product;
    });
  }

  /** Publishes now (the draft's edits and `published`), or schedules it. */
  async publish(ctx: SubgraphContext, productId: string, at?: string | null): Promise<ProductEntity> {
    const when = at === null || at === undefined ? null : Date.parse(at);
    if (when !== null && (!/(Z|[+-]\d{2}:?\d{2})$/i.test(at!) || Number.isNaN(when))) throw badInput('at must be an ISO 8601 time with a zone, e.g. 2026-05-01T08:00:00Z', 'at');
    if (when !== null && when > Date.now() + MAX_SCHEDULE_MS) throw badInput('at must be within a year', 'at');
    const product = await this.tx(ctx, async (m, tenantId) => {
      const current = await lockedProduct(m, tenantId, productId);
      if (when !== null && when > Date.now()) {
        await m.query(
          `INSERT INTO ${this.table('product_draft')} (product_id, tenant_id, fields, updated_by, publish_at, scheduled_by) VALUES ($1, $2, '{}', $3, $4, $3)
           ON CONFLICT (product_id) DO UPDATE SET publish_at = EXCLUDED.publish_at, scheduled_by = EXCLUDED.scheduled_by`,
          [current.id, tenantId, actorOf(ctx), new Date(when)],
        );
        return current;
      }
      await attributeChange(m, 'publish', actorOf(ctx));
      return publishIn(m, tenantId, current);
    });
    await this.afterCommit();
    return product;
  }

  discardDraft(ctx: SubgraphContext, productId: string): Promise<ProductEntity> {
    return this.tx(ctx, async (m, tenantId) => {
      const product = await lockedProduct(m, tenantId, productId);
      await m.query(`DELETE FROM ${this.table('product_draft')} WHERE product_id = $1`, [product.id]);
      return product;
    });
  }

  private table(name: string): string {
    return `"${this.dataSource.driver.schema}"."${name}"`;
  }
}

async function lockedProduct(m: EntityManager, tenantId: string, id: string): Promise<ProductEntity> {
  const product = isUuid(id) ? await m.getRepository(ProductEntity).findOne({ where: { tenantId, id }, lock: { mode: 'pessimistic_write' } }) : null;
  if (!product) throw notFound(`no product ${id}`);
  return product;
}

async function versionOf(m: EntityManager, tenantId: string, productId: string, version: number): Promise<VersionView | undefined> {
  const [row]: VersionRow[] = await m.query(
    `SELECT version, changed_at, changed_by, source, changes, state FROM "${m.connection.driver.schema}".product_version WHERE product_id = $1 AND version = $2 AND tenant_id = $3`,
    [productId, version, tenantId],
  );
  return row && versionView(row);
}

async function draftOf(m: EntityManager, tenantId: string, productId: string, lock = false): Promise<DraftRow | undefined> {
  const [row]: DraftRow[] = await m.query(
    `SELECT fields, publish_at, updated_by, updated_at FROM "${m.connection.driver.schema}".product_draft WHERE product_id = $1 AND tenant_id = $2${lock ? ' FOR UPDATE' : ''}`,
    [productId, tenantId],
  );
  return row;
}

export function draftView(product: ProductEntity, row: DraftRow): DraftView {
  const now = stateOf(product);
  const next = { ...now, ...row.fields };
  const { published: _published, ...fields } = next;
  return { ...fields, changes: diff(now, next), publishAt: row.publish_at, updatedBy: row.updated_by, updatedAt: row.updated_at };
}

/** A draft's handle must be free and its category must exist (checked again when it is published). */
async function checkFields(m: EntityManager, tenantId: string, productId: string, fields: DraftFields): Promise<void> {
  if (fields.categoryId && !(isUuid(fields.categoryId) && (await m.getRepository(CategoryEntity).existsBy({ tenantId, id: fields.categoryId })))) {
    throw notFound(`no category ${fields.categoryId}`);
  }
  if (fields.handle) {
    const holder = await m.getRepository(ProductEntity).findOne({ where: { tenantId, handle: fields.handle } });
    if (holder && holder.id !== productId) throw badInput(`handle "${fields.handle}" belongs to another product`, 'handle');
  }
}

/** Writes `state` on the product (the trigger records the version) and announces it when something changed. */
async function writeProduct(m: EntityManager, tenantId: string, current: ProductEntity, state: StateView): Promise<ProductEntity> {
  const changes = diff(stateOf(current), state);
  if (changes.length === 0) return current;
  await checkFields(m, tenantId, current.id, state);
  const products = m.getRepository(ProductEntity);
  await products.update(
    { tenantId, id: current.id },
    { title: state.title, handle: state.handle ?? current.handle, brand: state.brand, description: state.description, categoryId: state.categoryId, published: state.published, updatedAt: new Date() },
  );
  const saved = await products.findOneByOrFail({ tenantId, id: current.id });
  const skus = (await m.getRepository(VariantEntity).findBy({ tenantId, productId: current.id })).map((v) => v.sku);
  await emit(m, tenantId, 'catalog.product.upserted', { id: saved.id, title: saved.title, brand: saved.brand, categoryId: saved.categoryId, skus });
  return saved;
}

/** Applies the product's draft (if any) and publishes it; the draft is gone after. Idempotent. */
export async function publishIn(m: EntityManager, tenantId: string, product: ProductEntity): Promise<ProductEntity> {
  const draft = await draftOf(m, tenantId, product.id, true);
  const saved = await writeProduct(m, tenantId, product, { ...stateOf(product), ...(draft?.fields ?? {}), published: true });
  if (draft) await m.query(`DELETE FROM "${m.connection.driver.schema}".product_draft WHERE product_id = $1`, [product.id]);
  return saved;
}

