/**
 * Exact arithmetic on amounts in a currency's minor units (cents, yen, fils) as BigInt. The engine
 * never sees a float: amounts arrive as decimal strings, rates and percentages as decimal strings
 * scaled to integers.
 */

/** 10^digits for the minor units of currencies (0–4 digits) and the scales of rates, computed once. */
const POWERS = Array.from({ length: 13 }, (_, i) => 10n ** BigInt(i));
const power = (digits: number) => POWERS[digits] ?? 10n ** BigInt(digits);

/**
 * "12.50" with 2 minor digits → 1250n. The caller has validated the text (see lib/money.ts).
 * One BigInt parse of the digits with the point moved (a quote converts a few hundred amounts).
 */
export function toMinor(amount: string, digits: number): bigint {
  const negative = amount.startsWith('-');
  const text = negative ? amount.slice(1) : amount;
  const dot = text.indexOf('.');
  const whole = dot < 0 ? text : text.slice(0, dot);
  const fraction = dot < 0 ? '' : text.slice(dot + 1);
  const kept = fraction.length >= digits ? fraction.slice(0, digits) : fraction + '0'.repeat(digits - fraction.length);
  const value = BigInt((whole || '0') + kept);
  return negative ? -value : value;
}

/** 1250n with 2 minor digits → "12.50"; 1250n with 0 → "1250". */
export function fromMinor(value: bigint, digits: number): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const scale = power(digits);
  const whole = (abs / scale).toString();
  const text = digits ? `${whole}.${(abs % scale).toString().padStart(digits, '0')}` : whole;
  return negative ? `-${text}` : text;
}

/** A non-negative decimal string ("8.875") as an integer scaled by 10^places (8875n for 3 places). */
export function toScaled(decimal: string, places: number): bigint {
  return toMinor(decimal, places);
}

/**
 * numerator / denominator rounded half up (away from zero for non-negative values): the one
 * rounding rule of the engine, applied once per amount it computes.
 */
export function divRoundHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new RangeError('denominator must be positive');
  if (numerator < 0n) return -divRoundHalfUp(-numerator, denominator);
  return (numerator * 2n + denominator) / (denominator * 2n);
}

/**
 * Splits `total` across `weights` in proportion, exactly: each share is floored, and the units
 * left over go one by one to the largest remainders (ties to the earlier index). The shares
 * always add up to `total`; a zero weight gets nothing unless every weight is zero (then the
 * first gets all).
 */
export function allocate(total: bigint, weights: readonly bigint[]): bigint[] {
  if (weights.length === 0) return [];
  const sum = weights.reduce((a, b) => a + b, 0n);
  if (sum === 0n) return weights.map((_, i) => (i === 0 ? total : 0n));
  const shares = weights.map((w) => (total * w) / sum);
  let left = total - shares.reduce((a, b) => a + b, 0n);
  const order = weights
    .map((w, i) => ({ i, remainder: (total * w) % sum }))
    .sort((a, b) => (a.remainder === b.remainder ? a.i - b.i : a.remainder > b.remainder ? -1 : 1));
  for (let k = 0; left > 0n; k = (k + 1) % order.length) {
    if (weights[order[k]!.i] === 0n) continue;
    shares[order[k]!.i]! += 1n;
    left -= 1n;
  }
  return shares;
}

export const minBig = (a: bigint, b: bigint) => (a < b ? a : b);
export const maxBig = (a: bigint, b: bigint) => (a > b ? a : b);
