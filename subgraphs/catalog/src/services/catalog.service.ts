import { randomUUID } from 'node:crypto';
import type { Client } from '@openfeature/server-sdk';
import type { ModelProvider } from '../enrichment/model-provider.js';
import { ruleSubject, ruleSwitchesFor, ruleSwitchesIn, type RuleSwitches } from '../enrichment/rule-switches.js';
import { In, IsNull, Not } from 'typeorm';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { inTenantTransaction } from '../../../../lib/db/data-source.js';
import { queueModelAsks } from '../enrichment/model-asks.js';
import { badInput, notFound } from '../../../../lib/errors.js';
import { alignByKey, groupByKey } from '../../../../lib/graphql/batch.js';
import { isUuid } from '../../../../lib/graphql/context.js';
import { decodeCursor, pageSize, toConnection, type Connection } from '../../../../lib/graphql/pagination.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { outboxOf } from '../../../../lib/events/outbox.js';
import { knownStores } from '../../../../lib/events/read-model.js';
import { isValidSku } from '../../../../lib/sku.js';
import type { EntityManager } from 'typeorm';
import { CategoryEntity } from '../data/entities/category.entity.js';
import { ProductEntity } from '../data/entities/product.entity.js';
import { VariantEntity } from '../data/entities/variant.entity.js';
import { actorOf, attributeChange } from '../versions/product-versions.service.js';
import { checkCatalogExtras, writeCatalogExtras, type CatalogExtrasInput } from './attributes.service.js';
import { seesDrafts } from './audience.js';
import { decideSuggestion, enrichIncoming, enrichmentOf, enrichmentRulesOf, enrichmentView, recordEnrichment, setEnrichmentRulesIn, withSwitchedOff, type RulesInput } from '../enrichment/enrichment.service.js';

const emit = outboxOf('catalog');

/** What a shopper (storefront, partner) may see of products and categories: nothing archived, no draft. */
const shopperView = (ctx: SubgraphContext) => (seesDrafts(ctx) ? {} : { published: true, archivedAt: IsNull() });
const categoryView = (ctx: SubgraphContext) => (seesDrafts(ctx) ? {} : { archivedAt: IsNull() });

export interface UpsertProductInput {
  id?: string | null;
  published?: boolean | null;
  title: string;
  handle?: string | null;
  brand?: string | null;
  description?: string | null;
  categoryId?: string | null;
  variants: ({ sku: string; title: string; barcode?: string | null } & CatalogExtrasInput['variants'][number])[];
  attributes?: CatalogExtrasInput['attributes'];
  options?: CatalogExtrasInput['options'];
  media?: CatalogExtrasInput['media'];
}

/** A product's URL name. */
const HANDLE = /^(?=.{1,100}$)[a-z0-9]+(-[a-z0-9]+)*$/;

/** At most this many words of a search are matched (each one is an index condition). */
const MAX_SEARCH_WORDS = 8;

/** The words of a search text, in order, without repeats. */
export function searchWords(text: string | null | undefined): string[] {
  return [...new Set((text ?? '').trim().split(/\s+/).filter(Boolean))].slice(0, MAX_SEARCH_WORDS);
}

/** Products, variants and categories of a tenant. */
export class CatalogService extends TenantScopedService {
  private model: ModelProvider | null = null;
  private modelAsked: () => void = () => {};

  /**
   * An external model asked about each product `upsertProduct` writes, while the tenant's
   * enrichment is on: queued in the write's transaction, `asked` wakes the model worker after it.
   */
  useModel(model: ModelProvider, asked: () => void): void {
    this.model = model;
    this.modelAsked = asked;
  }

  products(
    ctx: SubgraphContext,
    args: { first?: number | null; after?: string | null; query?: string | null },
  ): Promise<Connection<ProductEntity>> {
    const limit = pageSize(args.first);
    const after = decodeCursor(args.after);
    if (after !== undefined && !/^\d+$/.test(after)) throw badInput('after is not a valid cursor', 'after');
    return this.tx(ctx, async (m, tenantId) => {
      const rows = await productPage(m, tenantId, { limit: limit + 1, after, query: args.query, drafts: seesDrafts(ctx) });
      return toConnection(rows, limit, (p) => p.seq);
    });
  }

  productByHandle(ctx: SubgraphContext, handle: string): Promise<ProductEntity | null> {
    // The oldest, should a feed batch have given two new products of one title the same handle.
    return this.tx(ctx, (m, tenantId) =>
      m.getRepository(ProductEntity).findOne({ where: { tenantId, handle, ...shopperView(ctx) }, order: { seq: 'ASC' } }),
    );
  }

  productsByIds(ctx: SubgraphContext, ids: readonly string[]): Promise<(ProductEntity | null)[]> {
    return this.tx(ctx, async (m, tenantId) => {
      const valid = ids.filter(isUuid);
      const rows = valid.length ? await m.getRepository(ProductEntity).findBy({ tenantId, id: In(valid), ...shopperView(ctx) }) : [];
      return alignByKey(ids, rows, (p) => p.id);
    });
  }

  variantsBySkus(ctx: SubgraphContext, skus: readonly string[]): Promise<(VariantEntity | null)[]> {
    return this.tx(ctx, async (m, tenantId) => {
      const rows = await m.getRepository(VariantEntity).findBy({ tenantId, sku: In([...skus]) });
      return alignByKey(skus, rows, (v) => v.sku);
    });
  }

  variantsByProductIds(ctx: SubgraphContext, productIds: readonly string[]): Promise<VariantEntity[][]> {
    return this.tx(ctx, async (m, tenantId) => {
      const rows = await m
        .getRepository(VariantEntity)
        .find({ where: { tenantId, productId: In([...productIds]) }, order: { position: 'ASC' } });
      return groupByKey(productIds, rows, (v) => v.productId);
    });
  }

  /** Whether the tenant has each store, as the tenant subgraph's events told the catalog (for `node(id:)`). */
  knownStores(ctx: SubgraphContext, ids: readonly string[]): Promise<boolean[]> {
    return this.tx(ctx, async (m, tenantId) => {
      const known = await knownStores(m, tenantId, ids);
      return ids.map((id) => known.has(id));
    });
  }

  categoriesByIds(ctx: SubgraphContext, ids: readonly string[]): Promise<(CategoryEntity | null)[]> {
    return this.tx(ctx, async (m, tenantId) => {
      const valid = ids.filter(isUuid);
      const rows = valid.length ? await m.getRepository(CategoryEntity).findBy({ tenantId, id: In(valid), ...categoryView(ctx) }) : [];
      return alignByKey(ids, rows, (c) => c.id);
    });
  }

  categories(ctx: SubgraphContext): Promise<CategoryEntity[]> {
    return this.tx(ctx, (m, tenantId) => m.getRepository(CategoryEntity).find({ where: { tenantId, ...categoryView(ctx) }, order: { name: 'ASC' } }));
  }

  childCategories(ctx: SubgraphContext, parentId: string): Promise<CategoryEntity[]> {
    return this.tx(ctx, (m, tenantId) => m.getRepository(CategoryEntity).find({ where: { tenantId, parentId, ...categoryView(ctx) }, order: { name: 'ASC' } }));
  }

  async createCategory(ctx: SubgraphContext, input: { name: string; parentId?: string | null }): Promise<CategoryEntity> {
    const name = input.name.trim();
    if (!name) throw badInput('name must not be empty', 'name');
    return this.tx(ctx, async (m, tenantId) => {
      const repo = m.getRepository(CategoryEntity);
      const parentId = input.parentId ?? null;
      if (parentId !== null && !(isUuid(parentId) && (await repo.existsBy({ tenantId, id: parentId })))) throw notFound(`no category ${parentId}`);
      await m.query(
        `INSERT INTO ${m.connection.driver.schema}.category (id, tenant_id, name, parent_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, name) DO NOTHING`,
        [randomUUID(), tenantId, name, parentId],
      );
      return repo.findOneByOrFail({ tenantId, name });
    });
  }

  async upsertProduct(ctx: SubgraphContext & { flags?: Client }, input: UpsertProductInput): Promise<ProductEntity> {
    const title = input.title.trim();
    if (!title) throw badInput('title must not be empty', 'title');
    if (!input.id && input.variants.length === 0) throw badInput('a new product needs at least one variant', 'variants');
    const skus = input.variants.map((v) => v.sku);
    for (const v of input.variants) {
      if (!isValidSku(v.sku)) throw badInput(`sku "${v.sku}" must be 1-64 letters, digits, ".", "_" or "-"`, 'variants.sku');
      if (!v.title.trim()) throw badInput(`variant ${v.sku} needs a title`, 'variants.title');
    }
    if (new Set(skus).size !== skus.length) throw badInput('each sku may appear once', 'variants');
    if (input.handle != null && !HANDLE.test(input.handle)) throw badInput('handle must be 1-100 lower-case letters, digits and single dashes', 'handle');
    checkCatalogExtras(input);

    // The rules' flags through OpenFeature before the transaction (a cold read of the flags may need the database).
    const switches = ctx.flags && ctx.tenantId ? await ruleSwitchesFor(ctx.flags, ctx.tenantId, ruleSubject(input.variants[0]?.sku ?? input.id ?? '')) : undefined;
    const product = await this.tx(ctx, async (m, tenantId) => {
      await attributeChange(m, 'api', actorOf(ctx));
      return upsertProductIn(m, tenantId, { ...input, title }, { switches, askModel: this.model !== null });
    });
    await this.afterCommit();
    // Asked by the model worker, never inside the answer's transaction: a model takes seconds and may fail (then it is retried).
    if (this.model) this.modelAsked();
    return product;
  }

  /**
   * Archives a product (or restores it): shoppers no longer see it anywhere (reads, search,
   * recommendations); staff do, with `archived: true`. Announced as a product change, so cached
   * storefront answers are forgotten.
   */
  async archiveProduct(ctx: SubgraphContext, id: string, archived: boolean): Promise<ProductEntity> {
    const product = await this.tx(ctx, async (m, tenantId) => {
      const products = m.getRepository(ProductEntity);
      const row = isUuid(id) ? await products.findOne({ where: { tenantId, id }, lock: { mode: 'pessimistic_write' } }) : null;
      if (!row) throw notFound(`no product ${id}`);
      if ((row.archivedAt !== null) !== archived) {
        await attributeChange(m, 'api', actorOf(ctx));
        await products.update({ tenantId, id }, { archivedAt: archived ? new Date() : null, updatedAt: new Date() });
        const skus = (await m.getRepository(VariantEntity).findBy({ tenantId, productId: id })).map((v) => v.sku);
        await emit(m, tenantId, 'catalog.product.upserted', { id, title: row.title, brand: row.brand, categoryId: row.categoryId, skus });
      }
      return products.findOneByOrFail({ tenantId, id });
    });
    await this.afterCommit();
    return product;
  }

  /** Archives a category (or restores it); refused while a live product or subcategory is filed under it. */
  archiveCategory(ctx: SubgraphContext, id: string, archived: boolean): Promise<CategoryEntity> {
    return this.tx(ctx, async (m, tenantId) => {
      const categories = m.getRepository(CategoryEntity);
      const row = isUuid(id) ? await categories.findOne({ where: { tenantId, id }, lock: { mode: 'pessimistic_write' } }) : null;
      if (!row) throw notFound(`no category ${id}`);
      if (archived && row.archivedAt === null) {
        if (await categories.existsBy({ tenantId, parentId: id, archivedAt: IsNull() })) throw badInput('archive its subcategories first', 'id');
        if (await m.getRepository(ProductEntity).existsBy({ tenantId, categoryId: id, archivedAt: IsNull() })) throw badInput('live products are filed under it: move or archive them first', 'id');
      }
      if (!archived && row.archivedAt !== null && row.parentId && (await categories.existsBy({ tenantId, id: row.parentId, archivedAt: Not(IsNull()) }))) {
        throw badInput('its parent is archived: restore the parent first', 'id');
      }
      await categories.update({ tenantId, id }, { archivedAt: archived ? (row.archivedAt ?? new Date()) : null });
      return categories.findOneByOrFail({ tenantId, id });
    });
  }

  /**
   * Adds the model's proposals for a product to its review queue (replacing the model's earlier
   * ones for the same fields), while the tenant enriches: for the products `upsertProduct`, feeds,
   * merchant systems and POS menus queue (`enrichment_model_ask`, the model worker). Throws when
   * the model fails, so the worker tries again.
   */
  async proposeByModel(tenantId: string, productId: string): Promise<void> {
    const model = this.model;
    if (!model) return;
    const asked = await inTenantTransaction(this.dataSource, tenantId, async (m) => {
      if (!(await enrichmentRulesOf(m, tenantId))) return null;
      const product = await m.getRepository(ProductEntity).findOneBy({ tenantId, id: productId });
      const categories: { name: string }[] = await m.query(`SELECT name FROM "${m.connection.driver.schema}"."category" WHERE tenant_id = $1 ORDER BY name LIMIT 200`, [tenantId]);
      return product && { title: product.title, brand: product.brand, description: product.description, categories: categories.map((c) => c.name) };
    });
    if (!asked) return;
    const proposals = await model.propose(asked);
    if (proposals.length === 0) return;
    await inTenantTransaction(this.dataSource, tenantId, async (m) => {
      const stored = (await enrichmentOf(m, tenantId, productId, true)) ?? { applied: [], review: [], attributes: {}, synonyms: [] };
      const fields = new Set(proposals.map((p) => p.field));
      await recordEnrichment(m, tenantId, productId, { ...stored, review: [...stored.review.filter((o) => !(o.rule === 'model' && fields.has(o.field))), ...proposals] });
    });
  }

  /** The tenant's enrichment rules (admin); setting them turns enrichment on. */
  setEnrichmentRules(ctx: SubgraphContext, input: RulesInput) {
    return this.tx(ctx, (m, tenantId) => setEnrichmentRulesIn(m, tenantId, input));
  }

  /** What enrichment changed on a product and what waits for review; null: nothing recorded. */
  productEnrichment(ctx: SubgraphContext, id: string) {
    return this.tx(ctx, async (m, tenantId) => {
      const stored = await enrichmentOf(m, tenantId, id);
      return stored && enrichmentView(id, stored);
    });
  }

  /** Applies (or rejects) the suggestion waiting for review on `field`. */
  async decideEnrichment(ctx: SubgraphContext, productId: string, field: string, accept: boolean) {
    const view = await this.tx(ctx, async (m, tenantId) => {
      const products = m.getRepository(ProductEntity);
      const product = isUuid(productId) ? await products.findOne({ where: { tenantId, id: productId }, lock: { mode: 'pessimistic_write' } }) : null;
      if (!product) throw notFound(`no product ${productId}`);
      const { changes, stored } = await decideSuggestion(m, tenantId, productId, field, accept, product);
      if (Object.keys(changes).length) {
        await attributeChange(m, 'enrichment', actorOf(ctx));
        Object.assign(product, changes, { updatedAt: new Date() });
        await products.update({ tenantId, id: productId }, { ...changes, updatedAt: product.updatedAt });
        const skus = (await m.getRepository(VariantEntity).findBy({ tenantId, productId })).map((v) => v.sku);
        await emit(m, tenantId, 'catalog.product.upserted', { id: product.id, title: product.title, brand: product.brand, categoryId: product.categoryId, skus });
      }
      return enrichmentView(productId, stored);
    });
    await this.afterCommit();
    return view;
  }
}

/**
 * A page of a tenant's products in creation order, optionally matching a search: each word must
 * appear in the product's search text (title, brand, description, category, skus), which a
 * trigram index serves at any catalog size (see the search-text migration).
 */
export async function productPage(
  m: EntityManager,
  tenantId: string,
  options: { limit: number; after?: string; query?: string | null; drafts: boolean },
): Promise<ProductEntity[]> {
  const products = m.getRepository(ProductEntity);
  const patterns = searchPatterns(options.query);
  if (patterns.length === 0) {
    const qb = products.createQueryBuilder('p').where('p.tenant_id = :tenantId', { tenantId }).orderBy('p.seq', 'ASC').limit(options.limit);
    if (!options.drafts) qb.andWhere('p.published AND p.archived_at IS NULL');
    if (options.after !== undefined) qb.andWhere('p.seq > :after', { after: options.after });
    return qb.getMany();
  }
  const page: { product_id: string }[] = await m.query(`SELECT product_id FROM "${m.connection.driver.schema}".search_product_page($1, $2, $3, $4)`, [
    patterns,
    options.after ?? null,
    options.limit,
    options.drafts,
  ]);
  if (page.length === 0) return [];
  // The statement chose the page without archived products for shoppers (the search row's
  // `archived`); the product's own column says the same, read here as the rule's second guard.
  return products.find({ where: { tenantId, id: In(page.map((r) => r.product_id)), ...(options.drafts ? {} : { archivedAt: IsNull() }) }, order: { seq: 'ASC' } });
}

/** The ILIKE patterns of a search: each word of it (at most MAX_SEARCH_WORDS), matched anywhere. */
export function searchPatterns(query: string | null | undefined): string[] {
  return searchWords(query).map((word) => `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
}

/**
 * Creates or updates a product and its variants inside the caller's transaction, announcing each
 * variant and the product. The product is `input.id`, or the one a merchant system or feed owns
 * under `externalRef` (created when there is none). Input is validated by the caller; a sku of
 * another product is refused (BAD_USER_INPUT).
 */
export async function upsertProductIn(
  m: EntityManager,
  tenantId: string,
  input: UpsertProductInput & { externalRef?: string | null },
  options: {
    /** The rules' flags as the caller evaluated them (default: read from the subgraph's copy in `m`). */
    switches?: RuleSwitches;
    storeId?: string | null;
    /** Queue the product for the external model when the tenant enriches (merchant systems' products; a mutation asks at once). */
    askModel?: boolean;
  } = {},
): Promise<ProductEntity> {
  const title = input.title.trim();
  const skus = input.variants.map((v) => v.sku);
  const products = m.getRepository(ProductEntity);
  let existing: ProductEntity | null = null;
  if (input.id) {
    existing = isUuid(input.id) ? await products.findOne({ where: { tenantId, id: input.id }, lock: { mode: 'pessimistic_write' } }) : null;
    if (!existing) throw notFound(`no product ${input.id}`);
  } else if (input.externalRef) {
    existing = await products.findOne({ where: { tenantId, externalRef: input.externalRef }, lock: { mode: 'pessimistic_write' } });
  }
  const row = existing ?? products.create({ id: randomUUID(), tenantId, externalRef: input.externalRef ?? null });
  if (input.categoryId) {
    const category = isUuid(input.categoryId) ? await m.getRepository(CategoryEntity).existsBy({ tenantId, id: input.categoryId }) : false;
    if (!category) throw notFound(`no category ${input.categoryId}`);
  }
  if (input.handle) {
    const holder = await products.findOne({ where: { tenantId, handle: input.handle } });
    if (holder && holder.id !== row.id) throw badInput(`handle "${input.handle}" belongs to another product`, 'handle');
    row.handle = input.handle;
  }
  const categoryId = input.categoryId ?? (existing && !input.id ? existing.categoryId : null);
  // Every product on its way in (here, and merchant systems' products) passes the tenant's rules,
  // less those its feature flags switch off for this product (read in this transaction unless the caller evaluated them).
  const tenantRules = await enrichmentRulesOf(m, tenantId);
  let rules = tenantRules;
  if (rules) {
    const switches = options.switches ?? (await ruleSwitchesIn(m, tenantId));
    rules = withSwitchedOff(rules, switches(ruleSubject(input.variants[0]?.sku ?? row.id, options.storeId)));
  }
  const enriched = await enrichIncoming(m, tenantId, rules, { title, brand: input.brand?.trim() || null, hasCategory: categoryId !== null });
  Object.assign(row, {
    published: input.published ?? row.published ?? true,
    title: enriched?.title ?? title,
    brand: enriched ? enriched.brand : input.brand?.trim() || null,
    description: input.description ?? null,
    categoryId: categoryId ?? enriched?.categoryId ?? null,
    updatedAt: new Date(),
  });
  if (existing) {
    await products.update(
      { tenantId, id: row.id },
      { title: row.title, handle: row.handle ?? undefined, brand: row.brand, description: row.description, categoryId: row.categoryId, published: row.published, updatedAt: row.updatedAt },
    );
  } else await products.insert(row);
  if (enriched) await recordEnrichment(m, tenantId, row.id, enriched.stored);
  // The model is asked while the tenant enriches at all, whatever its flags switched off.
  if (options.askModel && tenantRules) await queueModelAsks(m, tenantId, [row.id]);

  const variants = m.getRepository(VariantEntity);
  const taken = await variants.findBy({ tenantId, sku: In(skus) });
  const elsewhere = taken.find((v) => v.productId !== row.id);
  if (elsewhere) throw badInput(`sku ${elsewhere.sku} belongs to another product`, 'variants.sku');
  let position = existing ? await variants.countBy({ tenantId, productId: row.id }) : 0;
  for (const v of input.variants) {
    const current = taken.find((t) => t.sku === v.sku);
    const values = { title: v.title.trim(), barcode: v.barcode ?? null };
    if (current) await variants.update({ tenantId, sku: v.sku }, values);
    else await variants.insert({ tenantId, sku: v.sku, productId: row.id, position: position++, ...values });
    await emit(m, tenantId, 'catalog.variant.upserted', {
      sku: v.sku, productId: row.id, title: values.title, productTitle: row.title, barcode: values.barcode,
    });
  }
  await writeCatalogExtras(m, tenantId, row.id, input);
  await emit(m, tenantId, 'catalog.product.upserted', { id: row.id, title: row.title, brand: row.brand, categoryId: row.categoryId, skus });
  return products.findOneByOrFail({ tenantId, id: row.id });
}
