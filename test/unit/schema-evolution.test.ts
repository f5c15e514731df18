import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MapperKind, mapSchema } from '@graphql-tools/utils';
import { buildSchema } from 'graphql';
import { apiSchemaOf, evolution } from '../../schema/evolution.js';

const root = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

describe('schema evolution against the last release', () => {
  const last = readdirSync(join(root, 'schema', 'releases')).filter((f) => f.endsWith('-api.graphql')).sort().at(-1)!;
  const released = buildSchema(read(`schema/releases/${last}`));

  it('the composed API schema breaks nothing the last release promised (npm run schema:check)', async () => {
    const { refused } = await evolution(released, apiSchemaOf(read('schema/supergraph.graphql')));
    expect(refused.map((c) => c.message)).toEqual([]);
  });

  it('the partner contract breaks nothing its last release promised either', async () => {
    const partner = buildSchema(read(`schema/releases/${last.replace('-api.', '-partner.')}`));
    const { refused } = await evolution(partner, buildSchema(read('schema/partner.graphql')));
    expect(refused.map((c) => c.message)).toEqual([]);
  });

  it('refuses removing a field of the release that was not deprecated, and a changed field type', async () => {
    const withoutTitle = mapSchema(released, {
      [MapperKind.OBJECT_FIELD]: (config, field, type) => (type === 'Product' && field === 'title' ? null : config),
    });
    expect((await evolution(released, withoutTitle)).refused.map((c) => c.type)).toEqual(['FIELD_REMOVED']);
    const retyped = buildSchema('type Query { product(id: ID!): Product } type Product { id: ID! title: Int }');
    const before = buildSchema('type Query { product(id: ID!): Product } type Product { id: ID! title: String }');
    expect((await evolution(before, retyped)).refused.map((c) => c.type)).toEqual(['FIELD_TYPE_CHANGED']);
  });

  it('allows additions, and removing what the release had deprecated', async () => {
    const before = buildSchema('type Query { a: String b: String @deprecated(reason: "use a") } enum E { X Y @deprecated }');
    const after = buildSchema('type Query { a: String c: Int } enum E { X }');
    const { changes, refused } = await evolution(before, after);
    expect(changes.map((c) => c.type).sort()).toEqual(['ENUM_VALUE_REMOVED', 'FIELD_ADDED', 'FIELD_REMOVED']);
    expect(refused).toEqual([]);
  });
});
