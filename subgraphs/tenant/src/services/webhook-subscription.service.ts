import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { qualified, updatedRows } from '../../../../lib/db/data-source.js';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { appError, badInput, notFound } from '../../../../lib/errors.js';
import { isUuid } from '../../../../lib/graphql/context.js';
import { decodeCursor, pageSize, toConnection, type Connection } from '../../../../lib/graphql/pagination.js';
import { requireRole } from '../../../../lib/graphql/roles.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { DELIVERABLE_EVENT_TYPES, isDeliverable } from '../webhooks/deliverable-events.js';
import { generateWebhookSecret } from '../webhooks/signing.js';
import { TargetRefused, type TargetGuard } from '../../../../lib/outbound/target-policy.js';

/** How long the secret before a rotation still signs (as a second signature). */
export const ROTATION_GRACE_MS = 24 * 3_600_000;

export interface WebhookSubscriptionRow {
  id: string;
  url: string;
  eventTypes: string[];
  description: string | null;
  status: 'ACTIVE' | 'FAILING';
  failureReason: string | null;
  failingSince: Date | null;
  createdAt: Date;
  previousSecretValidUntil: Date | null;
}

export interface WebhookDeliveryRow {
  id: string;
  seq: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  status: 'PENDING' | 'DELIVERED' | 'FAILED';
  attempts: number;
  url: string;
  requestHeaders: Record<string, string> | null;
  body: string;
  responseStatus: number | null;
  responseBody: string | null;
  latencyMs: number | null;
  error: string | null;
  createdAt: Date;
  lastAttemptAt: Date | null;
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
}

const SUBSCRIPTION_COLUMNS = `id, url, event_types AS "eventTypes", description, status, failure_reason AS "failureReason",
  failing_since AS "failingSince", created_at AS "createdAt",
  CASE WHEN previous_secret_expires_at > now() THEN previous_secret_expires_at END AS "previousSecretValidUntil"`;

/** Outbound webhook subscriptions of a tenant (admin): what is sent where, and how each delivery went. */
export class WebhookSubscriptionService extends TenantScopedService {
  constructor(
    dataSource: DataSource,
    afterCommit: () => Promise<void>,
    private readonly guard: TargetGuard,
    /** Tells the delivery worker there is work (a redelivery). */
    private readonly nudge: () => void,
  ) {
    super(dataSource, afterCommit);
  }

  private get subscriptions() {
    return qualified(this.dataSource, 'webhook_subscription');
  }

  private get deliveries() {
    return qualified(this.dataSource, 'webhook_delivery');
  }

  /** Creates a subscription; its signing secret is in the answer only. */
  async create(ctx: SubgraphContext, input: { url: string; eventTypes: readonly string[]; description?: string | null }) {
    requireRole(ctx, 'admin');
    await this.checkTarget(input.url);
    const eventTypes = [...new Set(input.eventTypes)];
    if (eventTypes.length === 0) throw badInput('eventTypes names at least one event type', 'eventTypes');
    const unknown = eventTypes.find((type) => !isDeliverable(type));
    if (unknown) throw badInput(`${unknown} is not an event type a webhook can carry; see docs/events.md (${DELIVERABLE_EVENT_TYPES.length} types)`, 'eventTypes');
    const secret = generateWebhookSecret();
    const subscription = await this.tx(ctx, async (m, tenantId) => {
      const rows: WebhookSubscriptionRow[] = await m.query(
        `INSERT INTO ${this.subscriptions} (id, tenant_id, url, event_types, description, secret) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${SUBSCRIPTION_COLUMNS}`,
        [randomUUID(), tenantId, input.url, eventTypes, input.description ?? null, secret],
      );
      return rows[0]!;
    });
    return { secret, subscription };
  }

  list(ctx: SubgraphContext): Promise<WebhookSubscriptionRow[]> {
    requireRole(ctx, 'admin');
    return this.tx(ctx, (m) => m.query(`SELECT ${SUBSCRIPTION_COLUMNS} FROM ${this.subscriptions} ORDER BY created_at DESC, id`));
  }

  /** One subscription by its UUID (`node(id:)`; the caller checks the role), null when the tenant has none. */
  async byId(ctx: SubgraphContext, id: string): Promise<WebhookSubscriptionRow | null> {
    if (!isUuid(id)) return null;
    return this.tx(ctx, async (m) => ((await m.query(`SELECT ${SUBSCRIPTION_COLUMNS} FROM ${this.subscriptions} WHERE id = $1`, [id])) as WebhookSubscriptionRow[])[0] ?? null);
  }

  /** Deletes a subscription and its deliveries (pending ones are not sent). */
  async delete(ctx: SubgraphContext, id: string): Promise<WebhookSubscriptionRow> {
    requireRole(ctx, 'admin');
    return this.tx(ctx, async (m) => {
      const rows: WebhookSubscriptionRow[] = isUuid(id) ? updatedRows(await m.query(`DELETE FROM ${this.subscriptions} WHERE id = $1 RETURNING ${SUBSCRIPTION_COLUMNS}`, [id])) : [];
      if (!rows[0]) throw notFound(`no webhook subscription ${id}`);
      return { ...rows[0], previousSecretValidUntil: null };
    });
  }

  /** A new secret, shown once; the old one still signs beside it for 24 h. */
  async rotateSecret(ctx: SubgraphContext, id: string) {
    requireRole(ctx, 'admin');
    const secret = generateWebhookSecret();
    const subscription = await this.tx(ctx, async (m) => {
      const rows: WebhookSubscriptionRow[] = isUuid(id)
        ? updatedRows(await m.query(
            `UPDATE ${this.subscriptions} SET previous_secret = secret, previous_secret_expires_at = now() + $3::int * interval '1 millisecond', secret = $2
             WHERE id = $1 RETURNING ${SUBSCRIPTION_COLUMNS}`,
            [id, secret, ROTATION_GRACE_MS],
          ))
        : [];
      if (!rows[0]) throw notFound(`no webhook subscription ${id}`);
      return rows[0];
    });
    return { secret, subscription };
  }

  /** A subscription's deliveries, newest first. */
  async deliveriesOf(ctx: SubgraphContext, args: { subscriptionId: string; status?: string | null; first?: number | null; after?: string | null }): Promise<Connection<WebhookDeliveryRow>> {
    requireRole(ctx, 'admin');
    const limit = pageSize(args.first);
    const after = decodeCursor(args.after);
    if (after !== undefined && !/^\d{1,19}$/.test(after)) throw badInput('after is not a valid cursor', 'after');
    if (!isUuid(args.subscriptionId)) throw notFound(`no webhook subscription ${args.subscriptionId}`);
    const rows = await this.tx(ctx, (m) =>
      m.query(
        `SELECT d.id, d.seq::text AS seq, d.subscription_id AS "subscriptionId", d.event_id AS "eventId", d.event_type AS "eventType",
           d.status, d.attempts, s.url, d.request_headers AS "requestHeaders", msg.body, d.response_status AS "responseStatus",
           d.response_body AS "responseBody", d.latency_ms AS "latencyMs", d.error, d.created_at AS "createdAt",
           d.last_attempt_at AS "lastAttemptAt", CASE WHEN d.status = 'PENDING' THEN d.next_attempt_at END AS "nextAttemptAt",
           d.delivered_at AS "deliveredAt"
         FROM ${this.deliveries} d
         JOIN ${this.subscriptions} s ON s.id = d.subscription_id
         JOIN ${qualified(this.dataSource, 'webhook_message')} msg ON msg.event_id = d.event_id
         WHERE d.subscription_id = $1 AND ($2::text IS NULL OR d.status = $2) AND ($3::bigint IS NULL OR d.seq < $3::bigint)
         ORDER BY d.seq DESC LIMIT $4`,
        [args.subscriptionId, args.status ?? null, after ?? null, limit + 1],
      ),
    );
    return toConnection(rows as WebhookDeliveryRow[], limit, (row) => row.seq);
  }

  /** Sends an event again as a new delivery (same `webhook-id`); a failing subscription becomes active again. */
  async redeliver(ctx: SubgraphContext, deliveryId: string): Promise<WebhookDeliveryRow> {
    requireRole(ctx, 'admin');
    const subscriptionId = await this.tx(ctx, async (m, tenantId) => {
      const rows: { subscription_id: string }[] = isUuid(deliveryId)
        ? await m.query(
            `INSERT INTO ${this.deliveries} (id, tenant_id, subscription_id, event_id, event_type, resource_key)
             SELECT $2, $3, subscription_id, event_id, event_type, resource_key FROM ${this.deliveries} WHERE id = $1 RETURNING subscription_id`,
            [deliveryId, randomUUID(), tenantId],
          )
        : [];
      if (!rows[0]) throw notFound(`no webhook delivery ${deliveryId}`);
      await m.query(`UPDATE ${this.subscriptions} SET status = 'ACTIVE', failure_reason = NULL, failing_since = NULL WHERE id = $1`, [rows[0].subscription_id]);
      return rows[0].subscription_id;
    });
    this.nudge();
    const page = await this.deliveriesOf(ctx, { subscriptionId, first: 1 });
    return page.edges[0]!.node;
  }

  /** Refuses a URL that is malformed, plain HTTP in production, or (now) resolves to a private address. */
  private async checkTarget(raw: string): Promise<void> {
    try {
      await this.guard.resolve(this.guard.checkUrl(raw));
    } catch (error) {
      if (error instanceof TargetRefused) throw appError(error.code, error.message, { field: 'url' });
      throw error;
    }
  }
}
