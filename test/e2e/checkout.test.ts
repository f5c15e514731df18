import { createShop, type Shop } from '../support/fixtures.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

/**
 * Issue 17: from cart to doorstep and back, through the gateway, on whichever database and bus
 * the run uses (embedded by default; DATABASE_URL and REDIS_URL for PostgreSQL and Redis).
 */
const SESSION = 'accessToken refreshToken expiresAt customer { id email name }';
const REGISTER = `mutation ($i: RegisterCustomerInput!) { registerCustomer(input: $i) { ${SESSION} } }`;
const LOGIN = `mutation ($i: CustomerLoginInput!) { customerLogin(input: $i) { ${SESSION} } }`;
const REFRESH = `mutation ($t: String!) { refreshCustomerToken(refreshToken: $t) { ${SESSION} } }`;
const ME = '{ me { id email name addresses { city } } }';
const codes = (result: { errors?: { extensions?: Record<string, unknown> }[] }) => (result.errors ?? []).map((e) => e.extensions?.code);
const asCustomer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('customers, carts, checkout, payments, fulfilment and returns', () => {
  let system: TestSupergraph;
  let shop: Shop;

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
  });
  afterAll(() => system.stop());

  describe('customers', () => {
    it('registers, logs in, refreshes once, and reads only itself', async () => {
      const { registerCustomer: ann } = await system.ok(REGISTER, { i: { email: ' Ann@Example.com', password: 'correct horse 1', name: 'Ann' } }, shop.storefrontHeaders);
      expect(ann.customer).toEqual({ id: expect.any(String), email: 'ann@example.com', name: 'Ann' });
      const taken = await system.request(REGISTER, { i: { email: 'ann@example.com', password: 'another pass 1', name: 'Ann 2' } }, shop.storefrontHeaders);
      expect(codes(taken)).toEqual(['BAD_USER_INPUT']);

      const { customerLogin } = await system.ok(LOGIN, { i: { email: 'ann@example.com', password: 'correct horse 1' } }, shop.storefrontHeaders);
      const { me } = await system.ok(ME, {}, asCustomer(customerLogin.accessToken));
      expect(me).toEqual({ id: ann.customer.id, email: 'ann@example.com', name: 'Ann', addresses: [] });
      await system.ok('mutation ($a: AddressInput!) { addCustomerAddress(input: $a) { id } }', { a: { name: 'Ann', line1: '1 Main St', city: 'Berlin', postalCode: '10115', countryCode: 'DE' } }, asCustomer(customerLogin.accessToken));
      expect((await system.ok(ME, {}, asCustomer(customerLogin.accessToken))).me.addresses).toEqual([{ city: 'Berlin' }]);

      // A refresh token works once.
      const { refreshCustomerToken } = await system.ok(REFRESH, { t: customerLogin.refreshToken }, shop.storefrontHeaders);
      expect(refreshCustomerToken.customer.id).toBe(ann.customer.id);
      expect(codes(await system.request(REFRESH, { t: customerLogin.refreshToken }, shop.storefrontHeaders))).toEqual(['UNAUTHENTICATED']);

      // Staff operations stay closed to a customer; anonymous callers have no `me`.
      expect(codes(await system.request('{ orders(first: 1) { edges { node { id } } } }', {}, asCustomer(ann.accessToken)))).toEqual(['FORBIDDEN']);
      expect(codes(await system.request(ME, {}, shop.storefrontHeaders))).toEqual(['FORBIDDEN']);
    });

    it('limits failed logins per email', async () => {
      await system.ok(REGISTER, { i: { email: 'bob@example.com', password: 'bob password 1', name: 'Bob' } }, shop.storefrontHeaders);
      for (let i = 0; i < 5; i++) {
        expect(codes(await system.request(LOGIN, { i: { email: 'bob@example.com', password: 'wrong password' } }, shop.storefrontHeaders))).toEqual(['UNAUTHENTICATED']);
      }
      // Even the right password waits now.
      expect(codes(await system.request(LOGIN, { i: { email: 'bob@example.com', password: 'bob password 1' } }, shop.storefrontHeaders))).toEqual(['RATE_LIMITED']);
    });
  });
});
