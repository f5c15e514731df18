import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { ClientAddressOf } from '../auth/client-address.js';
import type { createFeedUpload } from '../webhooks/feed-upload.js';
import { useRoute } from './route.js';

/** `POST /imports/catalog`: an admin's CSV feed, streamed to the catalog. */
export function useFeedUpload(upload: ReturnType<typeof createFeedUpload>, clientAddress: ClientAddressOf) {
  return useRoute<{ req?: IncomingMessage }>(
    (path) => path === '/imports/catalog',
    async (request, { req }) => {
      const answer = await upload(request, clientAddress(req), req);
      const body = typeof answer.body === 'string' ? answer.body : (Readable.toWeb(answer.body) as ReadableStream<Uint8Array>);
      return new Response(body, { status: answer.status, headers: answer.headers });
    },
  );
}
