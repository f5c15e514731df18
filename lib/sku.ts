/** What a sku may be: letters, digits, `.`, `_` and `-`; 1 to 64 characters. */
export const SKU_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export const isValidSku = (sku: string) => SKU_PATTERN.test(sku);
