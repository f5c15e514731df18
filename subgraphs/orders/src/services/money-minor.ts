import { formatMoney, minorUnits, type Money } from '../../../../lib/money.js';

/** An amount (decimal string) in the currency's minor units, exactly. */
export function toMinor(amount: string, currencyCode: string): bigint {
  const [whole, fraction = ''] = formatMoney(amount, currencyCode).amount.split('.');
  const negative = whole!.startsWith('-');
  const value = BigInt(whole!.replace('-', '')) * 10n ** BigInt(minorUnits(currencyCode)) + BigInt(fraction || '0');
  return negative ? -value : value;
}

/** Minor units back to Money. */
export function fromMinor(minor: bigint, currencyCode: string): Money {
  const digits = minorUnits(currencyCode);
  const scale = 10n ** BigInt(digits);
  const sign = minor < 0n ? '-' : '';
  const abs = minor < 0n ? -minor : minor;
  const whole = abs / scale;
  return { amount: digits ? `${sign}${whole}.${(abs % scale).toString().padStart(digits, '0')}` : `${sign}${whole}`, currencyCode };
}
