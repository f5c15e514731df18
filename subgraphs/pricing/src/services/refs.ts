/** Entities owned by other subgraphs, as this one refers to them. */
export interface VariantRef {
  sku: string;
}
export interface StoreRef {
  id: string;
}
