/**
 * A store's menu as a POS sent it (`menu.updated`, decision 0036), mapped to our store by
 * inventory's ingestion: the catalog replaces the store's items, modifier groups and windows,
 * pricing the store's prices of its items and modifiers.
 */
export interface IngestedMenu {
  ingestionEventId: string;
  source: string;
  storeId: string;
  /** The source's configured currency; null: prices are left as they are. */
  currencyCode: string | null;
  timeZone: string;
  sourceTime: string | null;
  items: MenuItem[];
}

export interface MenuItem {
  /** The POS's id of the item: the product's `externalRef` is `<source>-menu:<id>`. */
  id: string;
  sku: string;
  title: string;
  price: string | null;
  modifierGroups: { name: string; minSelections: number; maxSelections: number; modifiers: { sku: string; name: string; price: string | null }[] }[];
  /** Empty: orderable at any time in the store. */
  windows: { from: string; to: string }[];
}
