import type { RuleOutcome } from './rules.js';

/**
 * An external model that proposes a cleaner title, a brand, a category and attributes for a
 * product (issue 19). Its proposals are never applied by themselves: they join the product's
 * review queue (confidence 0), where `applyEnrichment` / `rejectEnrichment` decide. Without
 * configuration there is none and the rules run alone.
 */
export interface ModelProvider {
  readonly model: string;
  propose(product: ModelProductInput): Promise<ModelProposal[]>;
}

export interface ModelProductInput {
  title: string;
  brand: string | null;
  description: string | null;
  /** The tenant's category names: the model is asked to choose one of them. */
  categories: readonly string[];
}

/** A proposal as the review queue keeps it: a rule outcome of the rule `model`. */
export type ModelProposal = Omit<RuleOutcome, 'rule'> & { rule: 'model' };

export interface ModelProviderConfig {
  /** Base URL of an OpenAI-compatible API, e.g. `https://api.openai.com/v1` (`/chat/completions` is appended). */
  baseUrl: string;
  model: string;
  apiKey?: string | null;
  timeoutMs?: number;
  /** Wait before a product whose request failed is asked again (default 30 s), doubled at each try, 5 tries in all. */
  retryMs?: number;
  fetch?: typeof fetch;
}

/** Why a call gave no proposals: logged by the caller, never a client's error. */
export class ModelProviderError extends Error {}

/** Most characters of a proposed value kept (a model may ramble). */
const MAX_VALUE = 255;
const MAX_ATTRIBUTES = 10;

const SYSTEM_PROMPT = [
  'You clean up product data for a retail catalog.',
  'Answer with one JSON object and nothing else, with any of these keys:',
  '"title" (the product title, cleanly cased, without the brand repeated twice),',
  '"brand" (the brand, as the brand spells it),',
  '"category" (exactly one of the given categories, or omit it),',
  '"attributes" (an object of short attribute names to values, e.g. {"size": "500 g"}).',
  'Omit a key when you are not sure.',
].join(' ');

/**
 * A provider for an OpenAI-compatible chat-completions endpoint (`POST {baseUrl}/chat/completions`,
 * bearer key, `response_format: json_object`): one request per product, temperature 0.
 */
export function chatCompletionsProvider(config: ModelProviderConfig): ModelProvider {
  const doFetch = config.fetch ?? fetch;
  const url = `${config.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  return {
    model: config.model,
    async propose(product) {
      const user = JSON.stringify({ title: product.title, brand: product.brand, description: product.description, categories: product.categories });
      let response: Response;
      try {
        response = await doFetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {}) },
          body: JSON.stringify({
            model: config.model,
            temperature: 0,
            response_format: { type: 'json_object' },
            messages: [
              { role: 'system', content: SYSTEM_PROMPT },
              { role: 'user', content: user },
            ],
          }),
          signal: AbortSignal.timeout(config.timeoutMs ?? 10_000),
        });
      } catch (error) {
        throw new ModelProviderError(`model request failed: ${(error as Error).message}`);
      }
      const text = await response.text();
      if (!response.ok) throw new ModelProviderError(`model answered ${response.status}: ${text.slice(0, 200)}`);
      let content: unknown;
      try {
        const body = JSON.parse(text) as { choices?: { message?: { content?: string | null }; finish_reason?: string }[] };
        const choice = body.choices?.[0];
        if (!choice?.message?.content) throw new Error('no message content');
        if (choice.finish_reason && choice.finish_reason !== 'stop') throw new Error(`finish_reason ${choice.finish_reason}`);
        content = JSON.parse(choice.message.content);
      } catch (error) {
        throw new ModelProviderError(`model answer is not a JSON object in a chat completion: ${(error as Error).message}`);
      }
      return proposalsOf(content, product, config.model);
    },
  };
}

/** The proposals in a model's JSON answer that differ from the product (unknown keys and odd values ignored). */
export function proposalsOf(content: unknown, product: ModelProductInput, model: string): ModelProposal[] {
  if (typeof content !== 'object' || content === null || Array.isArray(content)) return [];
  const answer = content as Record<string, unknown>;
  const reason = `proposed by the model ${model}`;
  const clean = (value: unknown) => (typeof value === 'string' || typeof value === 'number' ? String(value).trim().slice(0, MAX_VALUE) : '');
  const proposals: ModelProposal[] = [];
  const title = clean(answer.title);
  if (title && title !== product.title) proposals.push({ rule: 'model', field: 'title', from: product.title, to: title, confidence: 0, reason });
  const brand = clean(answer.brand);
  if (brand && brand !== product.brand) proposals.push({ rule: 'model', field: 'brand', from: product.brand, to: brand, confidence: 0, reason });
  const category = clean(answer.category);
  if (category && product.categories.includes(category)) proposals.push({ rule: 'model', field: 'category', from: null, to: category, confidence: 0, reason });
  if (typeof answer.attributes === 'object' && answer.attributes !== null && !Array.isArray(answer.attributes)) {
    for (const [name, value] of Object.entries(answer.attributes).slice(0, MAX_ATTRIBUTES)) {
      const key = name.trim().toLowerCase().replace(/[^a-z0-9_]+/g, '_').slice(0, 40);
      const text = clean(value);
      if (key && text) proposals.push({ rule: 'model', field: `attributes.${key}`, from: null, to: text, confidence: 0, reason });
    }
  }
  return proposals;
}

/**
 * The provider configuration from the environment: off (null) unless `ENRICHMENT_MODEL_URL` is
 * set; then `ENRICHMENT_MODEL` names the model, `ENRICHMENT_MODEL_API_KEY` is its bearer key
 * (optional for local servers), `ENRICHMENT_MODEL_TIMEOUT_MS` bounds a request (default 10 s),
 * `ENRICHMENT_MODEL_RETRY_MS` is the wait before a failed one is tried again (default 30 s, doubled each try).
 */
export function modelProviderConfigFrom(env: NodeJS.ProcessEnv): ModelProviderConfig | null {
  const baseUrl = env.ENRICHMENT_MODEL_URL?.trim();
  if (!baseUrl) return null;
  try {
    new URL(baseUrl);
  } catch {
    throw new Error(`ENRICHMENT_MODEL_URL is not a URL: ${baseUrl}`);
  }
  const model = env.ENRICHMENT_MODEL?.trim();
  if (!model) throw new Error('ENRICHMENT_MODEL must name the model when ENRICHMENT_MODEL_URL is set');
  const timeoutMs = env.ENRICHMENT_MODEL_TIMEOUT_MS ? Number(env.ENRICHMENT_MODEL_TIMEOUT_MS) : 10_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new Error('ENRICHMENT_MODEL_TIMEOUT_MS must be a positive integer (milliseconds)');
  const retryMs = env.ENRICHMENT_MODEL_RETRY_MS ? Number(env.ENRICHMENT_MODEL_RETRY_MS) : 30_000;
  if (!Number.isInteger(retryMs) || retryMs <= 0) throw new Error('ENRICHMENT_MODEL_RETRY_MS must be a positive integer (milliseconds)');
  return Object.freeze({ baseUrl, model, apiKey: env.ENRICHMENT_MODEL_API_KEY?.trim() || null, timeoutMs, retryMs });
}
