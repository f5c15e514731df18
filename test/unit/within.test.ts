import { once } from 'node:events';
import { createServer, connect, type AddressInfo } from 'node:net';
import { within } from '../../lib/async/within.js';

describe('within', () => {
  it('rejects a promise that does not settle in time', async () => {
    await expect(within(new Promise(() => undefined), 20)).rejects.toThrow('no answer within 20 ms');
  });

  it('lets an answer that reached the socket while the event loop was busy win over the late timer', async () => {
    // A real socket answers at once; this process is busy past the deadline before it reads it.
    const server = createServer((socket) => socket.on('data', () => socket.write('pong')));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');
    try {
      const answer = new Promise<string>((resolve) => socket.once('data', (data) => resolve(String(data))));
      const deadline = within(answer, 50);
      socket.write('ping');
      const busyUntil = Date.now() + 300;
      while (Date.now() < busyUntil); // the timer has expired and the pong is waiting, unread
      await expect(deadline).resolves.toBe('pong');
    } finally {
      socket.destroy();
      server.close();
    }
  });
});
