import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Plugin } from '@envelop/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getOperationAST, type DocumentNode } from 'graphql';

/**
 * OpenTelemetry traces, off by default. When on (OTEL_EXPORTER_OTLP_ENDPOINT set, or an exporter
 * given), the gateway's operation span is the parent of Apollo's plan and fetch spans, each fetch
 * carries W3C `traceparent` to its subgraph, whose operation span is the parent of its database
 * transactions: one trace from the client's request down to SQL. Off, every call here is the
 * API's no-op.
 */
export const tracer = trace.getTracer('commerce-supergraph');

let provider: BasicTracerProvider | undefined;

export function installTracing(options: { exporter?: SpanExporter; serviceName?: string; simple?: boolean } = {}): boolean {
  if (provider) return true;
  // The OTLP exporter is loaded only when it is used (~0.1 s of every start otherwise).
  const otlp = () => new (require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
  const exporter = options.exporter ?? (process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? otlp() : undefined);
  if (!exporter) return false;
  provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName ?? process.env.OTEL_SERVICE_NAME ?? 'commerce-supergraph' }),
    spanProcessors: [options.simple ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)],
  });
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return true;
}

export async function uninstallTracing(): Promise<void> {
  await provider?.shutdown();
  provider = undefined;
  trace.disable();
  context.disable();
  propagation.disable();
}

/** Runs `work` in a span (a child of the active one), recording a failure on it. */
export function withSpan<T>(name: string, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { attributes, kind: SpanKind.INTERNAL }, async (span) => {
    try {
      return await work();
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Adds the active trace context (`traceparent`) to outgoing headers. */
export function injectTraceHeaders(headers: Record<string, string>): void {
  propagation.inject(context.active(), headers);
}

/**
 * One SERVER span per executed operation, continuing the caller's trace (`traceparent`), active
 * while the operation runs. Register it after any plugin that replaces `execute`.
 */
export function useTracing(service: string): Plugin {
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const headers = (args.contextValue as { request?: { headers?: Headers } }).request?.headers;
      const carrier: Record<string, string> = {};
      headers?.forEach((value, name) => (carrier[name] = value));
      const parent: Context = propagation.extract(context.active(), carrier);
      const operation = getOperationAST(args.document as DocumentNode, args.operationName);
      const name = `${service} ${operation?.operation ?? 'operation'} ${operation?.name?.value ?? args.operationName ?? 'anonymous'}`;
      setExecuteFn((executeArgs) =>
        tracer.startActiveSpan(
          name,
          { kind: SpanKind.SERVER, attributes: { 'commerce.service': service, 'graphql.operation.name': operation?.name?.value ?? '', 'graphql.operation.type': operation?.operation ?? '' } },
          parent,
          async (span) => {
            try {
              const result = await executeFn(executeArgs);
              const errors = (result as { errors?: readonly { message: string }[] }).errors;
              if (errors?.length) span.setStatus({ code: SpanStatusCode.ERROR, message: errors[0]!.message });
              return result;
            } finally {
              span.end();
            }
          },
        ),
      );
    },
  };
}

/**
 * For servers without an execute hook (orders on mercurius): one SERVER span per HTTP request,
 * continuing the caller's trace, active for everything the request runs (the request and
 * response emitters are bound to it, so body parsing and hooks stay inside). `nameOperationSpan`
 * gives it the operation's name once it is known.
 */
export function traceRequest(service: string, req: IncomingMessage, res: ServerResponse, handle: () => void): void {
  const carrier: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') carrier[name] = value;
  const parent = propagation.extract(context.active(), carrier);
  const span = tracer.startSpan(`${service} request`, { kind: SpanKind.SERVER, attributes: { 'commerce.service': service } }, parent);
  const active = trace.setSpan(parent, span);
  res.once('close', () => span.end());
  context.bind(active, req);
  context.bind(active, res);
  context.with(active, handle);
}

/** Names the active request span after the operation it runs (`orders query OrderHistory`). */
export function nameOperationSpan(service: string, document: DocumentNode, operationName?: string | null): void {
  const span = trace.getActiveSpan();
  if (!span) return;
  const operation = getOperationAST(document, operationName);
  span.updateName(`${service} ${operation?.operation ?? 'operation'} ${operation?.name?.value ?? operationName ?? 'anonymous'}`);
  span.setAttributes({ 'graphql.operation.name': operation?.name?.value ?? '', 'graphql.operation.type': operation?.operation ?? '' });
}
