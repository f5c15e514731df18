import { createHash, randomBytes, randomUUID, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { appError, badInput } from '../../../../lib/errors.js';
import { checkAddress, type Address } from '../../../../lib/graphql/address.js';
import { outboxOf } from '../../../../lib/events/outbox.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { requireRole } from '../../../../lib/graphql/roles.js';
import { CUSTOMER_TOKEN_TTL_SECONDS, signCustomerToken } from '../../../../lib/tenant/customer-token.js';

const emit = outboxOf('tenant');

/** scrypt (memory-hard): N = 2^14, r = 8, p = 1 → 16 MiB per hash; 64-byte key, 16-byte salt. */
const SCRYPT = { N: 16_384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const KEY_LENGTH = 64;
/** Failed logins of one email (per tenant) within the window before RATE_LIMITED. */
export const LOGIN_FAILURES_ALLOWED = 5;
export const LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60;
const REFRESH_TTL_MS = 30 * 24 * 3600 * 1000;
const RESET_TTL_MS = 3600 * 1000;
const MIN_PASSWORD = 10;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const scrypt = (password: string, salt: Buffer, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCallback(password, salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key))));

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT.maxmem });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash to compare against when the email is unknown: the answer takes as long either way. */
let decoy: Promise<string> | undefined;

/** Rows of an UPDATE … RETURNING (TypeORM's postgres driver answers `[rows, count]` for an UPDATE). */
async function updated<T>(m: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const result = (await m.query(sql, params)) as [T[], number] | T[];
  return Array.isArray(result[0]) ? (result[0] as T[]) : (result as T[]);
}

const tokenHash = (token: string) => createHash('sha256').update(token).digest('base64url');

export interface CustomerRow {
  id: string;
  email: string;
  name: string;
  addresses: Address[];
}

export interface CustomerSession {
  accessToken: string;
  expiresAt: string;
  refreshToken: string;
  customer: CustomerRow;
}

/** Customers' identity: registration, login (rate-limited), refresh, password reset, profile. */
export class CustomerService extends TenantScopedService {
  constructor(
    dataSource: ConstructorParameters<typeof TenantScopedService>[0],
    afterCommit: () => Promise<void>,
    private readonly secret: string,
    private readonly tenantSlug: (ctx: SubgraphContext) => Promise<string>,
  ) {
    super(dataSource, afterCommit);
  }

  async register(ctx: SubgraphContext, input: { email: string; password: string; name: string }): Promise<CustomerSession> {
    const email = normalEmail(input.email);
    checkPassword(input.password);
    const name = input.name.trim();
    if (!name) throw badInput('name must not be empty', 'name');
    const passwordHash = await hashPassword(input.password);
    const slug = await this.tenantSlug(ctx);
    const session = await this.tx(ctx, async (m, tenantId) => {
      const id = randomUUID();
      const inserted: { id: string }[] = await m.query(
        `INSERT INTO ${this.table(m, 'customer')} (id, tenant_id, email, name, password_hash) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, email) DO NOTHING RETURNING id`,
        [id, tenantId, email, name, passwordHash],
      );
      if (inserted.length === 0) throw badInput('a customer with this email exists; log in instead', 'email');
      await emit(m, tenantId, 'tenant.customer.registered', { id, email });
      return this.session(m, tenantId, slug, { id, email, name, addresses: [] });
    });
    await this.afterCommit();
    return session;
  }

  async login(ctx: SubgraphContext, input: { email: string; password: string }): Promise<CustomerSession> {
    const email = input.email.trim().toLowerCase();
    const found = await this.tx(ctx, async (m, tenantId) => {
      const [{ failures }] = (await m.query(
        `SELECT count(*)::int AS failures FROM ${this.table(m, 'customer_login_failure')} WHERE tenant_id = $1 AND email = $2 AND at > now() - make_interval(secs => $3)`,
        [tenantId, email, LOGIN_FAILURE_WINDOW_SECONDS],
      )) as [{ failures: number }];
      if (failures >= LOGIN_FAILURES_ALLOWED) {
        throw appError('RATE_LIMITED', `Too many failed logins for this email; try again within ${LOGIN_FAILURE_WINDOW_SECONDS / 60} minutes.`, { retryAfterSeconds: LOGIN_FAILURE_WINDOW_SECONDS });
      }
      const rows: (CustomerRow & { password_hash: string })[] = await m.query(
        `SELECT id, email, name, addresses, password_hash FROM ${this.table(m, 'customer')} WHERE tenant_id = $1 AND email = $2`,
        [tenantId, email],
      );
      return rows[0];
    });
    const slug = await this.tenantSlug(ctx);
    const ok = found ? await verifyPassword(input.password, found.password_hash) : await verifyPassword(input.password, await (decoy ??= hashPassword(randomUUID())));
    const session = await this.tx(ctx, async (m, tenantId) => {
      if (!ok || !found) {
        await m.query(`INSERT INTO ${this.table(m, 'customer_login_failure')} (tenant_id, email) VALUES ($1, $2)`, [tenantId, email]);
        return null;
      }
      await m.query(`DELETE FROM ${this.table(m, 'customer_login_failure')} WHERE tenant_id = $1 AND email = $2`, [tenantId, email]);
      return this.session(m, tenantId, slug, { id: found.id, email: found.email, name: found.name, addresses: found.addresses });
    });
    if (!session) throw appError('UNAUTHENTICATED', 'Unknown email or wrong password.');
    return session;
  }

  /** A new access token for a refresh token, which is spent: the answer carries its successor. */
  async refresh(ctx: SubgraphContext, refreshToken: string): Promise<CustomerSession> {
    const slug = await this.tenantSlug(ctx);
    return this.tx(ctx, async (m, tenantId) => {
      const rows = await updated<CustomerRow>(m,
        `UPDATE ${this.table(m, 'customer_token')} t SET used_at = now()
           FROM ${this.table(m, 'customer')} c
          WHERE t.tenant_id = $1 AND t.token_hash = $2 AND t.purpose = 'REFRESH' AND t.used_at IS NULL AND t.expires_at > now() AND c.id = t.customer_id
          RETURNING c.id, c.email, c.name, c.addresses`,
        [tenantId, tokenHash(refreshToken)],
      );
      if (!rows[0]) throw appError('UNAUTHENTICATED', 'The refresh token is unknown, used or expired; log in again.');
      return this.session(m, tenantId, slug, rows[0]);
    });
  }

  /**
   * Starts a password reset: a single-use token, announced as `tenant.customer.password-reset-requested`
   * (outbound delivery sends the link). Always answers true, so it tells nobody which emails exist.
   */
  async requestPasswordReset(ctx: SubgraphContext, emailInput: string): Promise<boolean> {
    const email = emailInput.trim().toLowerCase();
    await this.tx(ctx, async (m, tenantId) => {
      const [row] = (await m.query(`SELECT id FROM ${this.table(m, 'customer')} WHERE tenant_id = $1 AND email = $2`, [tenantId, email])) as { id: string }[];
      if (!row) return;
      const token = randomBytes(32).toString('base64url');
      await m.query(
        `INSERT INTO ${this.table(m, 'customer_token')} (token_hash, tenant_id, customer_id, purpose, expires_at) VALUES ($1, $2, $3, 'PASSWORD_RESET', $4)`,
        [tokenHash(token), tenantId, row.id, new Date(Date.now() + RESET_TTL_MS)],
      );
      await emit(m, tenantId, 'tenant.customer.password-reset-requested', { customerId: row.id, email, token, expiresAt: new Date(Date.now() + RESET_TTL_MS).toISOString() });
    });
    await this.afterCommit();
    return true;
  }

  async resetPassword(ctx: SubgraphContext, input: { token: string; password: string }): Promise<CustomerSession> {
    checkPassword(input.password);
    const passwordHash = await hashPassword(input.password);
    const slug = await this.tenantSlug(ctx);
    return this.tx(ctx, async (m, tenantId) => {
      const used = await updated<{ customer_id: string }>(m,
        `UPDATE ${this.table(m, 'customer_token')} SET used_at = now()
          WHERE tenant_id = $1 AND token_hash = $2 AND purpose = 'PASSWORD_RESET' AND used_at IS NULL AND expires_at > now() RETURNING customer_id`,
        [tenantId, tokenHash(input.token)],
      );
      if (!used[0]) throw appError('UNAUTHENTICATED', 'The reset token is unknown, used or expired.');
      const [customer] = await updated<CustomerRow>(m,
        `UPDATE ${this.table(m, 'customer')} SET password_hash = $3 WHERE tenant_id = $1 AND id = $2 RETURNING id, email, name, addresses`,
        [tenantId, used[0].customer_id, passwordHash],
      );
      // Every other session ends with the old password.
      await m.query(`UPDATE ${this.table(m, 'customer_token')} SET used_at = now() WHERE tenant_id = $1 AND customer_id = $2 AND used_at IS NULL`, [tenantId, customer!.id]);
      return this.session(m, tenantId, slug, customer!);
    });
  }

  /** The signed-in customer (role customer); null for any other caller. */
  async me(ctx: SubgraphContext): Promise<CustomerRow | null> {
    if (!ctx.customerId) return null;
    return (await this.byIds(ctx, [ctx.customerId]))[0] ?? null;
  }

  async addAddress(ctx: SubgraphContext, address: Address): Promise<CustomerRow> {
    requireRole(ctx, 'customer');
    const clean = checkAddress(address);
    return this.tx(ctx, async (m, tenantId) => {
      const [row] = await updated<CustomerRow>(m,
        `UPDATE ${this.table(m, 'customer')} SET addresses = addresses || $3::jsonb
          WHERE tenant_id = $1 AND id = $2 AND jsonb_array_length(addresses) < 20 RETURNING id, email, name, addresses`,
        [tenantId, ctx.customerId, JSON.stringify([clean])],
      );
      if (!row) throw badInput('a customer keeps at most 20 addresses', 'address');
      return row;
    });
  }

  /** Customers by id as the caller may see them (a customer: itself only, by row-level security). */
  byIds(ctx: SubgraphContext, ids: readonly string[]): Promise<(CustomerRow | null)[]> {
    return this.tx(ctx, async (m, tenantId) => {
      const rows: CustomerRow[] = await m.query(`SELECT id, email, name, addresses FROM ${this.table(m, 'customer')} WHERE tenant_id = $1 AND id::text = ANY($2)`, [tenantId, [...ids]]);
      return ids.map((id) => rows.find((r) => r.id === id) ?? null);
    });
  }

  /** Inside the caller's transaction: `slug` is read before it (one session on embedded PostgreSQL: no nested transaction). */
  private async session(m: EntityManager, tenantId: string, slug: string, customer: CustomerRow): Promise<CustomerSession> {
    const refreshToken = randomBytes(32).toString('base64url');
    await m.query(
      `INSERT INTO ${this.table(m, 'customer_token')} (token_hash, tenant_id, customer_id, purpose, expires_at) VALUES ($1, $2, $3, 'REFRESH', $4)`,
      [tokenHash(refreshToken), tenantId, customer.id, new Date(Date.now() + REFRESH_TTL_MS)],
    );
    const now = Date.now();
    const accessToken = await signCustomerToken(this.secret, { tenantSlug: slug, customerId: customer.id }, now);
    return { accessToken, expiresAt: new Date(now + CUSTOMER_TOKEN_TTL_SECONDS * 1000).toISOString(), refreshToken, customer };
  }

  private table(m: EntityManager, name: string): string {
    return `"${m.connection.driver.schema}"."${name}"`;
  }
}

function normalEmail(value: string): string {
  const email = value.trim().toLowerCase();
  if (!EMAIL.test(email)) throw badInput('email must be an email address', 'email');
  return email;
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD) throw badInput(`a password has at least ${MIN_PASSWORD} characters`, 'password');
}
