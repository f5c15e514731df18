import type { EventApplier } from '../../../../lib/events/consumer.js';
import { on, reactions } from '../../../../lib/events/on.js';
import { rememberStoreAndTimeZone, rememberTimeZoneChange } from '../../../../lib/events/read-model.js';
import { advanceWatermarks } from '../../../../lib/events/source-watermark.js';
import { metrics } from '../../../../lib/observability/metrics.js';
import { ProductEntity } from '../data/entities/product.entity.js';
import { VariantEntity } from '../data/entities/variant.entity.js';
import { upsertProductIn } from '../services/catalog.service.js';
import { attributeChange } from '../versions/product-versions.service.js';
import { feedEffectReactions } from '../feed/feed-effects.js';
import { menuReceived } from '../menus/menu-consumers.js';
import { copyFeatureFlag } from '../../../../lib/flags/flag-copy.js';

/**
 * What the catalog learns from other subgraphs: the tenant's stores (a feed names them by code),
 * and products that merchant systems pushed by webhook. A variant whose sku already belongs to another product is left out (and logged), so
 * one bad variant cannot hold the others back; the source remains the place to fix it. A product
 * older than the one last applied from its source (a replayed or late delivery) changes nothing.
 */
export function catalogAppliers(log: (message: string) => void = console.error, options: { /** Queue merchant products for the external model (configured: ENRICHMENT_MODEL_URL). */ askModel?: boolean } = {}): Record<string, EventApplier> {
  return reactions(
    // Feeds name stores by code.
    on('tenant.store.created', rememberStoreAndTimeZone),
    on('tenant.store.time-zone-set', rememberTimeZoneChange),
    on('tenant.feature-flag.changed', copyFeatureFlag),
    // What pricing and inventory applied of a feed: its import completes with the last of them.
    ...feedEffectReactions,
    // A POS's restaurant menu (decision 0036).
    ...menuReceived(options),
    on('inventory.ingestion.product-received', async (m, event) => {
      const product = event.payload;
      if (product.sourceTime) {
        const newer = (await advanceWatermarks(m, event.tenantId, product.source, [product.externalRef], new Date(product.sourceTime))).get(product.externalRef);
        if (newer) {
          metrics.ingestionStale.inc({ service: 'catalog', kind: 'product' });
          log(`catalog: ${product.externalRef} from ${product.source} (delivery ${product.ingestionEventId}) changed at ${product.sourceTime}, before the ${newer.toISOString()} already applied; left unchanged`);
          return;
        }
      }
      const owner = await m.getRepository(ProductEntity).findOne({ where: { tenantId: event.tenantId, externalRef: product.externalRef } });
      const taken = await m
        .getRepository(VariantEntity)
        .createQueryBuilder('v')
        .where('v.tenant_id = :tenantId AND v.sku = ANY(:skus)', { tenantId: event.tenantId, skus: product.variants.map((v) => v.sku) })
        .getMany();
      const elsewhere = new Set(taken.filter((v) => v.productId !== owner?.id).map((v) => v.sku));
      const variants = product.variants.filter((v) => !elsewhere.has(v.sku));
      if (elsewhere.size) log(`catalog: ${product.externalRef}: skus ${[...elsewhere].join(', ')} belong to another product; left out`);
      if (variants.length === 0) return;
      await attributeChange(m, product.source.toLowerCase(), `ingestion:${product.ingestionEventId}`);
      await upsertProductIn(m, event.tenantId, {
        externalRef: product.externalRef,
        title: product.title,
        description: product.description,
        brand: product.brand,
        published: product.published,
        // Options and media as the source has them (the adapter kept them within upsertProduct's bounds).
        options: product.options,
        media: product.media,
        variants: variants.map((v) => ({ sku: v.sku, title: v.title, barcode: v.barcode, options: v.options, media: v.media })),
      }, { askModel: options.askModel });
    }),
  );
}
