import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { within } from '../../lib/async/within.js';

describe('within', () => {
  it('rejects a promise that does not settle in time', async () => {
    await expect(within(new Promise(() => undefined), 20)).rejects.toThrow('no answer within 20 ms');
  });

  it('lets an answer that reached the socket while the event loop was busy win over the late timer', async () => {
    // A real socket pair on loopback; the far end answers while this process is busy past the deadline.
    let far: Socket | undefined;
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      far = socket;
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const near = connect((server.address() as AddressInfo).port, '127.0.0.1');
    near.on('error', () => undefined);
    await once(near, 'connect');
    while (!far) await new Promise((resolve) => setImmediate(resolve));
    try {
      const answer = new Promise<string>((resolve) => near.once('data', (data) => resolve(String(data))));
      const deadline = within(answer, 50);
      far.write('pong'); // in the kernel's buffer at once, read by this process only when its loop turns
      const busyUntil = Date.now() + 200;
      while (Date.now() < busyUntil); // the deadline passes while the answer waits unread
      await expect(deadline).resolves.toBe('pong');
    } finally {
      near.end();
      far.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
