import { WEBHOOK_SECRET_HEADERS } from '../webhooks/registry.js';
import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Structured JSON logs (pino), one logger per service. Secrets never reach a log line: known
 * fields are redacted by path, and any string that looks like an API key, a JWT, a webhook
 * signature or the gateway's signed context is masked wherever it appears.
 */
export const REDACTED = '[Redacted]';

export const REDACT_PATHS = [
  'headers.authorization',
  'headers["x-api-key"]',
  ...WEBHOOK_SECRET_HEADERS.map((name) => `headers["${name}"]`),
  'headers["x-commerce-context"]',
  'headers.cookie',
  '*.secret',
  '*.password',
  '*.token',
  '*.key',
  'variables.input.secret',
  'variables.input.password',
  'variables.secret',
  'variables.password',
  'variables.token',
];

const SECRET_TEXT = [
  /\bck_[A-Za-z0-9_-]{8,}/g, // API keys
  /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, // JWTs
  /\bsha256=[0-9a-fA-F]{16,}/g, // webhook signatures
  /\b[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{40,}\b/g, // the gateway's signed context
];

export function scrub(text: string): string {
  let out = text;
  for (const pattern of SECRET_TEXT) out = out.replace(pattern, REDACTED);
  return out;
}

function scrubValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrub(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { type: value.name, message: scrub(value.message), stack: value.stack ? scrub(value.stack) : undefined };
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubValue(v, depth + 1)]));
}

export interface LoggerOptions {
  /** `LOG_LEVEL` (default info); `silent` logs nothing. */
  level?: string;
  /** Where lines go (default stdout). */
  destination?: DestinationStream;
}

export function createLogger(service: string, options: LoggerOptions = {}): Logger {
  return pino(
    {
      base: { service },
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((arg) => scrubValue(arg)) as Parameters<typeof method>);
        },
      },
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

export type { Logger };
