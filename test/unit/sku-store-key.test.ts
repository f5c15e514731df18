import { skuStoreKey, splitSkuStoreKey } from '../../lib/sku.js';

describe('skuStoreKey: the one key for a (sku, store) pair', () => {
  it('splits back into the pair it was made of', () => {
    const storeId = '0b6c8a52-7f1e-4c3e-9a57-4d1b2f0e6a11';
    expect(splitSkuStoreKey(skuStoreKey('COF-003-L', storeId))).toEqual(['COF-003-L', storeId]);
    expect(splitSkuStoreKey(skuStoreKey('a.b_c', 'x'))).toEqual(['a.b_c', 'x']);
  });

  it('keeps different pairs apart (no sku can contain the separator)', () => {
    expect(skuStoreKey('AB', 'C')).not.toBe(skuStoreKey('A', 'BC'));
  });
});
