import { Client } from 'pg';
import { readSharedBuffers } from '../../lib/db/embedded-postgres.js';

/** The embedded database's buffer cache: small by default (it is zeroed at every open), set by PGLITE_SHARED_BUFFERS. */
describe('PGLITE_SHARED_BUFFERS', () => {
  it('is 32MB unless set; a size when set; anything else stops the start with a message', () => {
    expect(readSharedBuffers({})).toBe('32MB');
    expect(readSharedBuffers({ PGLITE_SHARED_BUFFERS: ' 256MB ' })).toBe('256MB');
    expect(readSharedBuffers({ PGLITE_SHARED_BUFFERS: '1GB' })).toBe('1GB');
    for (const bad of ['lots', '32 MB', '32MB; DROP', '-1', '12345678MB']) {
      expect(() => readSharedBuffers({ PGLITE_SHARED_BUFFERS: bad })).toThrow(`PGLITE_SHARED_BUFFERS must be a size such as 32MB or 256MB, not "${bad}"`);
    }
  });

  // The run's embedded database (test/support/global-setup.ts) is started the way npm start's is.
  (process.env.TEST_EMBEDDED_POSTGRES ? it : it.skip)('the embedded database runs with it, sized for its one backend', async () => {
    const client = new Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ buffers: string; connections: string }>("SELECT current_setting('shared_buffers') AS buffers, current_setting('max_connections') AS connections");
      expect(rows[0]).toEqual({ buffers: readSharedBuffers(), connections: '5' });
    } finally {
      await client.end();
    }
  });
});
