import { signQuote, verifyQuote, type SignedQuote } from './quote-token.js';

const quote: SignedQuote = {
  v: 1, id: 'q1', tenantId: 't1', storeId: 's1', currencyCode: 'EUR', claimed: true, limited: false, expiresAt: '2030-01-01T00:15:00.000Z',
  lines: [{ sku: 'A', quantity: 1, unitPrice: '10.00', discount: '0.00', tax: '2.00', total: '12.00' }],
  subtotal: '10.00', discountTotal: '0.00', taxTotal: '2.00', total: '12.00', promotionIds: [],
};
const before = new Date('2030-01-01T00:00:00Z');

describe('quote tokens', () => {
  it('verify as signed, for their tenant, until they expire', () => {
    const token = signQuote('secret', quote);
    expect(verifyQuote('secret', token, 't1', before)).toEqual(quote);
    expect(verifyQuote('secret', token, 't2', before)).toBe('OTHER_TENANT');
    expect(verifyQuote('secret', token, 't1', new Date('2030-01-01T00:15:00Z'))).toBe('EXPIRED');
  });

  it('refuse any change, another key, and garbage', () => {
    const token = signQuote('secret', quote);
    const [body, mac] = token.split('.');
    const changed = Buffer.from(JSON.stringify({ ...quote, total: '0.01' })).toString('base64url');
    expect(verifyQuote('secret', `${changed}.${mac}`, 't1', before)).toBe('TAMPERED');
    expect(verifyQuote('other', token, 't1', before)).toBe('TAMPERED');
    expect(verifyQuote('secret', `${body}`, 't1', before)).toBe('MALFORMED');
    expect(verifyQuote('secret', `${body}.${mac}.x`, 't1', before)).toBe('MALFORMED');
    expect(verifyQuote('secret', 'a.b', 't1', before)).toBe('TAMPERED');
  });
});
