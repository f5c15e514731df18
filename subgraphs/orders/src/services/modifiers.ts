import type { EntityManager } from 'typeorm';
import { appError } from '../../../../lib/errors.js';
import type { ModifierGroupPayload } from '../../../../lib/events/contracts/catalog.js';
import { sumMoney } from '../../../../lib/money.js';
import { isWithinWindows, type AvailabilityWindow } from '../../../../lib/menus/availability.js';

/** OUTSIDE_AVAILABILITY_WINDOW unless every sku may be ordered in the store at `at` (its windows, read model `orders.availability`, in the store's zone when set without one). */
export async function checkAvailability(m: EntityManager, tenantId: string, storeId: string, skus: readonly string[], at: Date): Promise<void> {
  const rows: { sku: string; time_zone: string; windows: AvailabilityWindow[] }[] = await m.query(
    `SELECT a.sku, coalesce(CASE WHEN a.from_store THEN z.time_zone END, a.time_zone) AS time_zone, a.windows FROM "${m.connection.driver.schema}"."availability_info" a
       LEFT JOIN "${m.connection.driver.schema}"."store_time_zone" z ON z.tenant_id = a.tenant_id AND z.store_id = a.store_id
      WHERE a.tenant_id = $1 AND a.store_id = $2 AND a.sku = ANY($3)`,
    [tenantId, storeId, skus],
  );
  const closed = rows.find((r) => !isWithinWindows(r.windows, r.time_zone, at));
  if (closed) {
    throw appError('OUTSIDE_AVAILABILITY_WINDOW', `${closed.sku} is not orderable in this store now: only ${closed.windows.map((w) => `${w.from}–${w.to}`).join(', ')} (${closed.time_zone})`, {
      field: 'lines.sku', sku: closed.sku, timeZone: closed.time_zone, windows: closed.windows,
    });
  }
}

export interface ChosenModifier {
  sku: string;
  name: string;
  amount: string;
}

const invalid = (message: string) => appError('MODIFIERS_INVALID', message, { field: 'lines.modifiers' });

/**
 * Checks each line's modifiers against its sku's modifier groups (the `orders.modifier-groups`
 * read model): each chosen sku a modifier of one of them, once; each group between its
 * `minSelections` and `maxSelections`. Answers each line's modifiers with their prices in the
 * store (from `price_info`, as the lines are priced), MODIFIERS_INVALID otherwise.
 */
export async function chosenModifiers(
  m: EntityManager,
  tenantId: string,
  storeId: string,
  lines: readonly { sku: string; modifiers?: readonly string[] | null }[],
  currencyCode: string | null,
  /** A quoted order's unit prices per sku: modifiers are priced from them, not from `price_info`. */
  quoted: ReadonlyMap<string, string> | null = null,
): Promise<ChosenModifier[][]> {
  const s = m.connection.driver.schema;
  const rows: { sku: string; groups: ModifierGroupPayload[] }[] = await m.query(
    `SELECT sku, groups FROM "${s}"."modifier_group_info" WHERE tenant_id = $1 AND sku = ANY($2)`,
    [tenantId, lines.map((l) => l.sku)],
  );
  const groupsOf = new Map(rows.map((r) => [r.sku, r.groups]));
  const chosenSkus = [...new Set(lines.flatMap((l) => l.modifiers ?? []))];
  const prices: { sku: string; amount: string; currency_code: string }[] = quoted
    ? chosenSkus.filter((sku) => quoted.has(sku)).map((sku) => ({ sku, amount: quoted.get(sku)!, currency_code: currencyCode ?? '' }))
    : chosenSkus.length
    ? await m.query(`SELECT sku, amount, currency_code FROM "${s}"."price_info" WHERE tenant_id = $1 AND store_id = $2 AND sku = ANY($3)`, [tenantId, storeId, chosenSkus])
    : [];
  const priceOf = new Map(prices.map((p) => [p.sku, p]));
  return lines.map((line) => {
    const chosen = line.modifiers ?? [];
    const groups = groupsOf.get(line.sku) ?? [];
    if (new Set(chosen).size !== chosen.length) throw invalid(`${line.sku}: each modifier may be chosen once`);
    const result: ChosenModifier[] = [];
    for (const sku of chosen) {
      const modifier = groups.flatMap((g) => g.modifiers).find((x) => x.sku === sku);
      if (!modifier) throw invalid(`${sku} is not a modifier of ${line.sku}`);
      const price = priceOf.get(sku);
      if (!price) throw invalid(`modifier ${sku} has no price in store ${storeId}`);
      if (currencyCode && price.currency_code.trim() !== currencyCode) throw invalid(`modifier ${sku} is priced in ${price.currency_code.trim()}, the line in ${currencyCode}`);
      result.push({ sku, name: modifier.name, amount: price.amount });
    }
    for (const group of groups) {
      const count = group.modifiers.filter((x) => chosen.includes(x.sku)).length;
      if (count < group.minSelections) throw invalid(`${line.sku}: choose at least ${group.minSelections} of ${group.name}`);
      if (count > group.maxSelections) throw invalid(`${line.sku}: choose at most ${group.maxSelections} of ${group.name}`);
    }
    return result;
  });
}

/** The unit amount of a line: its own price and its modifiers'. */
export const unitWithModifiers = (amount: string, modifiers: readonly ChosenModifier[], currencyCode: string): string =>
  modifiers.length ? sumMoney([{ amount, quantity: 1 }, ...modifiers.map((x) => ({ amount: x.amount, quantity: 1 }))], currencyCode).amount : amount;
