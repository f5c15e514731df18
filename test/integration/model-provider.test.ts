import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chatCompletionsProvider, modelProviderConfigFrom, ModelProviderError } from '../../subgraphs/catalog/src/enrichment/model-provider.js';

/**
 * The model provider's contract with an OpenAI-compatible chat-completions API: a local HTTP
 * server replays responses in that API's format (test/fixtures/openai) and records what the
 * provider sent, so the request's shape and the parsing of answers are checked without a network.
 */
const fixture = (name: string) => readFileSync(join(__dirname, '..', 'fixtures', 'openai', `${name}.json`), 'utf8');
const PRODUCT = { title: 'NESCAFE GOLD INSTANT COFFEE 200GM', brand: null, description: null, categories: ['Coffee', 'Tea'] };

describe('the chat-completions model provider against a replaying server', () => {
  let server: Server;
  let baseUrl: string;
  let replies: { status: number; body: string }[] = [];
  const received: { method?: string; url?: string; headers: IncomingMessage['headers']; body: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        received.push({ method: request.method, url: request.url, headers: request.headers, body: JSON.parse(body) as Record<string, unknown> });
        const reply = replies.shift() ?? { status: 500, body: '{"error":{"message":"no reply recorded"}}' };
        response.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    received.length = 0;
    replies = [];
  });

  it('asks POST /chat/completions for a JSON object and turns the answer into proposals for review', async () => {
    replies = [{ status: 200, body: fixture('chat-completion-enrichment') }];
    const provider = chatCompletionsProvider({ baseUrl: `${baseUrl}/`, model: 'gpt-4o-mini', apiKey: 'sk-test' });
    const proposals = await provider.propose(PRODUCT);
    expect(received).toHaveLength(1);
    const [request] = received;
    expect({ method: request!.method, url: request!.url, auth: request!.headers.authorization, type: request!.headers['content-type'] }).toEqual({
      method: 'POST', url: '/v1/chat/completions', auth: 'Bearer sk-test', type: 'application/json',
    });
    expect(request!.body).toEqual({
      model: 'gpt-4o-mini', temperature: 0, response_format: { type: 'json_object' },
      messages: [{ role: 'system', content: expect.stringContaining('JSON object') }, { role: 'user', content: JSON.stringify(PRODUCT) }],
    });
    const reason = 'proposed by the model gpt-4o-mini';
    // Everything at confidence 0: a model's proposal is never applied without a person.
    expect(proposals).toEqual([
      { rule: 'model', field: 'title', from: PRODUCT.title, to: 'Nescafé Gold Instant Coffee 200 g', confidence: 0, reason },
      { rule: 'model', field: 'brand', from: null, to: 'Nescafé', confidence: 0, reason },
      { rule: 'model', field: 'category', from: null, to: 'Coffee', confidence: 0, reason },
      { rule: 'model', field: 'attributes.size', from: null, to: '200 g', confidence: 0, reason },
      { rule: 'model', field: 'attributes.form', from: null, to: 'instant', confidence: 0, reason },
    ]);
  });

  it('proposes no category outside the tenant’s, and sends no key when none is configured', async () => {
    replies = [{ status: 200, body: fixture('chat-completion-enrichment') }];
    const proposals = await chatCompletionsProvider({ baseUrl, model: 'local-llama' }).propose({ ...PRODUCT, categories: ['Tea'] });
    expect(proposals.map((p) => p.field)).toEqual(['title', 'brand', 'attributes.size', 'attributes.form']);
    expect(received[0]!.headers.authorization).toBeUndefined();
  });

  it('fails with a ModelProviderError on an API error, a cut-off answer, or no answer in time', async () => {
    const provider = chatCompletionsProvider({ baseUrl, model: 'gpt-4o-mini', apiKey: 'sk-wrong', timeoutMs: 300 });
    replies = [{ status: 401, body: fixture('error-invalid-api-key') }];
    await expect(provider.propose(PRODUCT)).rejects.toThrow(new ModelProviderError(`model answered 401: ${fixture('error-invalid-api-key').slice(0, 200)}`));
    replies = [{ status: 200, body: fixture('chat-completion-length') }];
    await expect(provider.propose(PRODUCT)).rejects.toThrow(/finish_reason length/);
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const slow = chatCompletionsProvider({ baseUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, model: 'm', timeoutMs: 200 });
      await expect(slow.propose(PRODUCT)).rejects.toBeInstanceOf(ModelProviderError);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('is off without configuration and refuses a half configuration at start', () => {
    expect(modelProviderConfigFrom({})).toBeNull();
    expect(modelProviderConfigFrom({ ENRICHMENT_MODEL_URL: 'http://127.0.0.1:11434/v1', ENRICHMENT_MODEL: 'llama3.1' })).toEqual({ baseUrl: 'http://127.0.0.1:11434/v1', model: 'llama3.1', apiKey: null, timeoutMs: 10_000, retryMs: 30_000 });
    expect(() => modelProviderConfigFrom({ ENRICHMENT_MODEL_URL: 'http://127.0.0.1:11434/v1' })).toThrow(/ENRICHMENT_MODEL must name/);
    expect(() => modelProviderConfigFrom({ ENRICHMENT_MODEL_URL: 'not a url', ENRICHMENT_MODEL: 'm' })).toThrow(/not a URL/);
    expect(() => modelProviderConfigFrom({ ENRICHMENT_MODEL_URL: 'http://127.0.0.1:11434/v1', ENRICHMENT_MODEL: 'm', ENRICHMENT_MODEL_RETRY_MS: '0' })).toThrow(/RETRY_MS must be a positive integer/);
  });
});
