import { on, type Reaction } from '../../../../lib/events/on.js';
import { advanceWatermarks } from '../../../../lib/events/source-watermark.js';
import { ProductEntity } from '../data/entities/product.entity.js';
import { upsertProductIn } from '../services/catalog.service.js';
import { attributeChange } from '../versions/product-versions.service.js';
import { checkedAvailability, checkedGroups, replaceAvailabilityIn, replaceModifierGroupsIn } from './menu.service.js';

/**
 * A POS `menu.updated` (decision 0036), in the one transaction of this consumer: each item is a
 * product of the menu (`<source>-menu:<id>`; a sku another product already has stays that
 * product's), each modifier a sku (an add-on product when the catalog has none), then each item's
 * modifier groups and its windows in the store are replaced. A redelivery was dropped by
 * ingestion; the same event twice is dropped by the consumer's dedupe. With `askModel`, the menu's
 * items (not its add-ons) are queued for the external model as other merchant products are.
 */
export const menuReceived = (options: { askModel?: boolean } = {}): Reaction[] => [
  on('inventory.ingestion.menu-received', async (m, event) => {
    const menu = event.payload;
    const tenantId = event.tenantId;
    const ref = `${menu.source.toLowerCase()}-menu:${menu.storeId}`;
    if (menu.sourceTime && (await advanceWatermarks(m, tenantId, menu.source, [ref], new Date(menu.sourceTime))).get(ref)) return;
    await attributeChange(m, menu.source.toLowerCase(), `ingestion:${menu.ingestionEventId}`);
    const s = m.connection.driver.schema;
    const ownerOf = async (sku: string): Promise<string | null> => {
      const [row]: { product_id: string }[] = await m.query(`SELECT product_id FROM "${s}"."variant" WHERE tenant_id = $1 AND sku = $2`, [tenantId, sku]);
      return row?.product_id ?? null;
    };
    const ensure = async (externalRef: string, sku: string, title: string, askModel = false): Promise<string> => {
      const owner = await ownerOf(sku);
      if (owner) {
        const product = await m.getRepository(ProductEntity).findOneBy({ tenantId, id: owner });
        if (product?.externalRef !== externalRef) return owner;
      }
      return (await upsertProductIn(m, tenantId, { externalRef, title, published: true, variants: [{ sku, title }] }, { askModel })).id;
    };
    for (const item of menu.items) {
      const productId = await ensure(`${menu.source.toLowerCase()}-menu:${item.id}`, item.sku, item.title, options.askModel);
      for (const group of item.modifierGroups) {
        for (const modifier of group.modifiers) await ensure(`${menu.source.toLowerCase()}-modifier:${modifier.sku}`, modifier.sku, modifier.name);
      }
      const groups = checkedGroups(item.modifierGroups.map((g) => ({ ...g, modifiers: g.modifiers.map(({ sku, name }) => ({ sku, name })) })));
      await replaceModifierGroupsIn(m, tenantId, productId, groups);
      await replaceAvailabilityIn(m, tenantId, productId, menu.storeId, checkedAvailability(menu.timeZone, item.windows));
    }
  }),
];
