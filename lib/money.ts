import { badInput } from './errors.js';

/** A decimal amount with its ISO 4217 currency; amounts travel as strings, never floats. */
export interface Money {
  amount: string;
  currencyCode: string;
}

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));
/** Amounts are stored as numeric(19,4): at most 15 digits before the point. */
export const MAX_AMOUNT_WHOLE_DIGITS = 15;
const DECIMAL = /^(0|[1-9]\d{0,14})(\.\d+)?$/;

/** True when an amount (e.g. a computed total) fits numeric(19,4). */
export const fitsStoredAmount = (amount: string) => amount.split('.')[0]!.replace(/^-/, '').length <= MAX_AMOUNT_WHOLE_DIGITS;

const minorUnitsCache = new Map<string, number>();

/** Digits after the decimal point for a currency (EUR 2, JPY 0, BHD 3); cached, as Intl is slow to build. */
export function minorUnits(currencyCode: string): number {
  let digits = minorUnitsCache.get(currencyCode);
  if (digits === undefined) {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency: currencyCode }).resolvedOptions().maximumFractionDigits ?? 2;
    minorUnitsCache.set(currencyCode, digits);
  }
  return digits;
}

/** Validates client input and returns the amount with exactly the currency's minor units. */
export function parseMoney(amount: string, currencyCode: string): Money {
  const currency = currencyCode.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency) || !CURRENCIES.has(currency)) {
    throw badInput(`"${currencyCode}" is not an ISO 4217 currency code`, 'currencyCode');
  }
  const text = amount.trim();
  if (!DECIMAL.test(text)) throw badInput(`"${amount}" is not a non-negative decimal amount`, 'amount');
  const digits = minorUnits(currency);
  const [whole, fraction = ''] = text.split('.');
  if (fraction.replace(/0+$/, '').length > digits) {
    throw badInput(`${currency} amounts have at most ${digits} decimal places`, 'amount');
  }
  return { amount: digits ? `${whole}.${fraction.padEnd(digits, '0').slice(0, digits)}` : whole!, currencyCode: currency };
}

/** Formats a stored numeric (e.g. "12.5000") with the currency's minor units ("12.50"). */
export function formatMoney(amount: string, currencyCode: string): Money {
  const digits = minorUnits(currencyCode);
  const [whole, fraction = ''] = amount.split('.');
  return { amount: digits ? `${whole}.${fraction.padEnd(digits, '0').slice(0, digits)}` : whole!, currencyCode };
}

/** Exact sum of amounts in minor units (BigInt), formatted back. */
export function sumMoney(items: { amount: string; quantity: number }[], currencyCode: string): Money {
  const digits = minorUnits(currencyCode);
  const scale = 10n ** BigInt(digits);
  let total = 0n;
  for (const item of items) {
    const [whole, fraction = ''] = formatMoney(item.amount, currencyCode).amount.split('.');
    total += (BigInt(whole!) * scale + BigInt(fraction || '0')) * BigInt(item.quantity);
  }
  const whole = total / scale;
  const fraction = (total % scale).toString().padStart(digits, '0');
  return { amount: digits ? `${whole}.${fraction}` : `${whole}`, currencyCode };
}
