import type { Plugin } from 'graphql-yoga';

/**
 * The gateway's side routes (webhooks, feed upload, SDL, health, debug, the board, metrics) are
 * request plugins, as in Hive Gateway and Yoga: each answers its own paths in `onRequest`, before
 * any GraphQL processing, and lets every other request through.
 */
export type RouteHandler<TServerContext> = (request: Request, serverContext: TServerContext, url: URL) => Promise<Response> | Response;

export function useRoute<TServerContext extends Record<string, unknown> = Record<string, unknown>>(matches: (path: string, request: Request) => boolean, handle: RouteHandler<TServerContext>): Plugin<object, TServerContext> {
  return {
    onRequest({ request, url, serverContext, endResponse }) {
      if (!matches(url.pathname, request)) return;
      return Promise.resolve(handle(request, serverContext as TServerContext, url)).then(endResponse);
    },
  };
}

/** A JSON answer. */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}
