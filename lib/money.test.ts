import { formatMoney, parseMoney, sumMoney } from './money.js';

describe('money', () => {
  it('normalises amounts to the currency minor units', () => {
    expect(parseMoney('12.5', 'eur')).toEqual({ amount: '12.50', currencyCode: 'EUR' });
    expect(parseMoney('300', 'JPY')).toEqual({ amount: '300', currencyCode: 'JPY' });
    expect(parseMoney('1.250', 'BHD')).toEqual({ amount: '1.250', currencyCode: 'BHD' });
    expect(parseMoney('7.10', 'USD')).toEqual({ amount: '7.10', currencyCode: 'USD' });
  });

  it('refuses what is not a non-negative decimal in an ISO 4217 currency', () => {
    for (const [amount, currency] of [['1e3', 'EUR'], ['-1', 'EUR'], ['01.00', 'EUR'], ['1.001', 'EUR'], ['', 'EUR'], ['1', 'ABC'], ['1', 'EU']]) {
      expect(() => parseMoney(amount!, currency!)).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }));
    }
  });

  it('formats stored numerics and sums exactly', () => {
    expect(formatMoney('12.5000', 'EUR')).toEqual({ amount: '12.50', currencyCode: 'EUR' });
    expect(sumMoney([{ amount: '0.10', quantity: 3 }, { amount: '0.20', quantity: 1 }], 'EUR')).toEqual({ amount: '0.50', currencyCode: 'EUR' });
    expect(sumMoney([{ amount: '999999999.99', quantity: 1000 }], 'EUR').amount).toBe('999999999990.00');
  });
});
