import { parseGlobalId, toGlobalId } from '../../lib/graphql/global-id.js';

describe('global ids (decision 0026)', () => {
  it('is base64url of the type and its key, and reads back', () => {
    const id = toGlobalId('StockLevel', '0b7e6c1e-8f0a-4c57-9d0e-2a7b0f4f1a11', 'ESP-1');
    expect(Buffer.from(id, 'base64url').toString()).toBe('StockLevel:0b7e6c1e-8f0a-4c57-9d0e-2a7b0f4f1a11:ESP-1');
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(parseGlobalId(id)).toEqual({ type: 'StockLevel', key: ['0b7e6c1e-8f0a-4c57-9d0e-2a7b0f4f1a11', 'ESP-1'] });
  });

  it('keeps a key part with `:` or `%` one part', () => {
    const id = toGlobalId('Variant', 'a:b%3Ac');
    expect(parseGlobalId(id)).toEqual({ type: 'Variant', key: ['a:b%3Ac'] });
  });

  it('takes a raw UUID as the id of a type that had one', () => {
    expect(parseGlobalId('0b7e6c1e-8f0a-4c57-9d0e-2a7b0f4f1a11')).toEqual({ type: 'uuid', key: ['0b7e6c1e-8f0a-4c57-9d0e-2a7b0f4f1a11'] });
  });

  it('refuses anything else with BAD_USER_INPUT naming the field', () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    for (const id of ['', 'not an id', b64('Cart:1'), b64('Variant'), b64('Variant:'), b64('StockLevel:s'), b64('Price:a:b:c'), `${b64('Variant:X')}=`]) {
      expect(() => parseGlobalId(id)).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'id' } }));
    }
  });
});
