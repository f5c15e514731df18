/**
 * The resource an event is about, e.g. `orders.order:<id>` or `inventory.stock-level:<sku>@<store>`:
 * deliveries of one subscription about one resource go out one at a time, in the order the
 * events arrived. Derived from the payload's identifying fields, so a new event type needs no entry.
 */
export function resourceKeyOf(type: string, payload: unknown): string {
  const entity = type.split('.').slice(0, 2).join('.');
  const p = (payload ?? {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' || typeof value === 'number' ? String(value) : undefined);
  const sku = text(p.sku);
  const storeId = text(p.storeId);
  const id = text(p.orderId) ?? (sku && storeId ? `${sku}@${storeId}` : undefined) ?? text(p.id) ?? sku ?? text(p.source);
  return id === undefined ? entity : `${entity}:${id}`;
}
