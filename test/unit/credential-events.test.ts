import { credentialEvents } from '../../gateway/src/auth/credential-events.js';
import { CredentialWatch } from '../../gateway/src/auth/credential-watch.js';
import type { TenantDirectory } from '../../gateway/src/auth/tenant-directory.js';
import type { Identity } from '../../gateway/src/auth/authenticator.js';

const envelope = (type: string, payload: unknown) => ({ eventId: type, type, occurredAt: new Date().toISOString(), tenantId: 't', source: 'tenant', version: 1, payload });

describe('credential events', () => {
  it('a revoked key leaves the directory cache and ends what was opened with it; a configured source drops webhook secrets', () => {
    const forgotten: string[] = [];
    const directory = { forgetApiKey: (hash: string) => forgotten.push(`key:${hash}`), forgetWebhookSecrets: () => forgotten.push('webhooks') } as unknown as TenantDirectory;
    const credentials = new CredentialWatch();
    const ended: string[] = [];
    const identity: Identity = { tenant: { id: 't', slug: 's' }, roles: ['pos'], kind: 'api-key', subject: 'k1', apiKeyId: 'k1' };
    credentials.watch(identity, (why) => ended.push(why));
    const observe = credentialEvents({ credentials, directory });
    observe(envelope('inventory.stock-level.changed', {}));
    expect(forgotten).toEqual([]);
    observe(envelope('tenant.api-key.revoked', { id: 'k1', keyHash: 'h1' }));
    observe(envelope('tenant.webhook-source.configured', { source: 'SHOPIFY', currencyCode: 'EUR' }));
    expect(forgotten).toEqual(['key:h1', 'webhooks']);
    expect(ended).toEqual(['revoked']);
  });
});
