import { inlineParameters } from '../../lib/db/data-source.js';

describe('inlineParameters (a read sent in one round trip)', () => {
  it('writes each $n as the literal the driver would have sent: quotes doubled, backslashes in E strings, arrays as array literals', () => {
    const text = 'SELECT $1, $2::text[], $3, $10, $4::uuid[]';
    const values = ["o'brien", ['a', 'b"c', 'd\\e', null], null, [], 'x', 'x', 'x', 'x', 'x', 'tenth'];
    // In E'…' a doubled backslash is one: the array's text is {"a","b\"c","d\\e",NULL}, its items a, b"c, d\e and NULL.
    expect(inlineParameters(text, values)).toBe(String.raw`SELECT 'o''brien',  E'{"a","b\\"c","d\\\\e",NULL}'::text[], NULL, 'tenth', '{}'::uuid[]`);
  });

  it('leaves no way out of a literal', () => {
    expect(inlineParameters('SELECT $1', ["x'); DROP TABLE price; --"])).toBe("SELECT 'x''); DROP TABLE price; --'");
    expect(inlineParameters('SELECT $1', ["a\\'b"])).toBe(String.raw`SELECT  E'a\\''b'`);
  });
});
