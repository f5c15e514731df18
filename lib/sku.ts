/** What a sku may be: letters, digits, `.`, `_` and `-`; 1 to 64 characters. */
export const SKU_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export const isValidSku = (sku: string) => SKU_PATTERN.test(sku);

/** One key for a (sku, store) pair, for maps and DataLoaders: a sku has no newline (`SKU_PATTERN`). */
export const skuStoreKey = (sku: string, storeId: string) => `${sku}\n${storeId}`;

/** The pair a `skuStoreKey` was made of. */
export const splitSkuStoreKey = (key: string): [sku: string, storeId: string] => {
  const cut = key.indexOf('\n');
  return [key.slice(0, cut), key.slice(cut + 1)];
};
