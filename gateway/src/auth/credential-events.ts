import type { EventEnvelope } from '../../../lib/events/envelope.js';
import { isEventOf } from '../../../lib/events/event-map.js';
import type { CredentialWatch } from './credential-watch.js';
import type { TenantDirectory } from './tenant-directory.js';

/**
 * What the gateway's authentication learns from events, whoever delivers them: a revoked key is
 * dropped from the directory's cache and ends the sockets and streams opened with it; a webhook
 * source configured or rotated drops the cached webhook secrets.
 */
export function credentialEvents(options: { credentials: CredentialWatch; directory?: TenantDirectory }): (event: EventEnvelope) => void {
  return (event) => {
    if (isEventOf(event, 'tenant.api-key.revoked')) {
      const { id, keyHash } = event.payload;
      options.directory?.forgetApiKey(keyHash);
      options.credentials.revoked(id);
    }
    if (isEventOf(event, 'tenant.webhook-source.configured')) options.directory?.forgetWebhookSecrets();
  };
}
