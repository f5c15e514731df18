import { createHash, randomBytes } from 'node:crypto';
import { createLogger } from '../../lib/observability/logger.js';
import { createShop, type Shop } from '../support/fixtures.js';
import { captureLogLines } from '../support/log-capture.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

/** Plain words and digits: nothing the logger's text patterns (keys, JWTs, signatures) would catch by shape. */
const secretLike = (tag: string) => `${tag}${randomBytes(12).toString('hex')}`;

describe('no secret in any log line', () => {
  let system: TestSupergraph;
  let shop: Shop;
  const { destination, lines, raw } = captureLogLines();

  beforeAll(async () => {
    // The gateway's and every subgraph's request log lines, all captured.
    system = await startSupergraph({
      logger: createLogger('gateway', { level: 'info', destination }),
      subgraphLogger: (name) => createLogger(name, { level: 'info', destination }),
    });
    shop = await createShop(system);
  });
  afterAll(() => system.stop());

  it('redacts what the schema marks @sensitive, however the request nests it, in the gateway and the subgraph', async () => {
    const secrets = { input: secretLike('input'), renamed: secretLike('renamed'), literal: secretLike('literal'), fragment: secretLike('fragment'), aliased: secretLike('aliased') };
    const sent: [string, string, Record<string, unknown>][] = [
      ['req-red-1', 'mutation A($input: ConfigureWebhookSourceInput!) { configureWebhookSource(input: $input) { source } }', { input: { source: 'POS', secret: secrets.input } }],
      ['req-red-2', 'mutation B($cfg: ConfigureWebhookSourceInput!) { configureWebhookSource(input: $cfg) { source } }', { cfg: { currencyCode: 'EUR', source: 'ERP', secret: secrets.renamed } }],
      ['req-red-3', 'mutation C($s: String!) { configureWebhookSource(input: { source: SHOPIFY, secret: $s }) { source } }', { s: secrets.literal }],
      ['req-red-4', 'mutation D($k: String!) { ...Configure } fragment Configure on Mutation { configureWebhookSource(input: { source: POS, secret: $k }) { source } }', { k: secrets.fragment }],
      [
        'req-red-5',
        'mutation E($a: ConfigureWebhookSourceInput!, $b: String!) { one: configureWebhookSource(input: $a) { source } two: configureWebhookSource(input: { source: ERP, secret: $b }) { source } }',
        { a: { source: 'SHOPIFY', secret: secrets.aliased }, b: secrets.aliased.toUpperCase() },
      ],
    ];
    for (const [requestId, query, variables] of sent) await system.ok(query, variables, { ...shop.headers, 'x-request-id': requestId });
    // The gateway authenticated the admin key through the tenant directory: its hash is a credential too.
    const keyHash = createHash('sha256').update(shop.adminKey).digest('hex');

    // Lines were written, by the gateway and by the tenant subgraph, for each request.
    for (const [requestId] of sent) {
      for (const service of ['gateway', 'tenant']) {
        const line = lines.find((l) => l.requestId === requestId && l.service === service && l.msg === 'graphql operation');
        expect({ requestId, service, code: line?.code, redacted: JSON.stringify(line?.variables ?? null).includes('[Redacted]') }).toEqual({ requestId, service, code: 'OK', redacted: true });
      }
    }
    expect(lines.find((l) => l.requestId === 'req-red-2' && l.service === 'gateway')?.variables).toEqual({ cfg: { currencyCode: 'EUR', source: 'ERP', secret: '[Redacted]' } });
    expect(lines.find((l) => l.requestId === 'req-red-3' && l.service === 'gateway')?.variables).toEqual({ s: '[Redacted]' });
    expect(lines.some((l) => l.service === 'tenant' && l.variables && 'keyHash' in l.variables)).toBe(true);

    const text = raw.join('\n');
    for (const leaked of [...Object.values(secrets), secrets.aliased.toUpperCase(), keyHash, shop.adminKey]) expect({ leaked, found: text.includes(leaked) }).toEqual({ leaked, found: false });
  });
});
