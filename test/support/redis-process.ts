import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';

/** A redis-server process of the test's own, on a free port, that the test may stop, freeze and start again. */
export interface RedisProcess {
  url: string;
  port: number;
  /** SIGSTOP: the process keeps its sockets but answers nothing (a hung Redis). */
  freeze(): void;
  /** SIGCONT after `freeze`. */
  thaw(): void;
  /** SIGKILL: connections are refused; its data (none on disk) is gone. */
  kill(): Promise<void>;
  /** Starts an empty redis-server again on the same port. */
  restart(): Promise<void>;
  /** Thaws it, or starts it again if it was killed. */
  ensureRunning(): Promise<void>;
  stop(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const answersPing = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => socket.write('PING\r\n'));
    socket.setTimeout(500, () => (socket.destroy(), resolve(false)));
    socket.once('data', (data) => (socket.destroy(), resolve(data.toString().startsWith('+PONG'))));
    socket.once('error', () => resolve(false));
  });

export async function startRedisProcess(): Promise<RedisProcess> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (await answersPing(port)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server did not start on port ${port}`);
  };
  const exited = () => new Promise<void>((resolve) => (child && child.exitCode === null && child.signalCode === null ? child.once('exit', () => resolve()) : resolve()));
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    async kill() {
      const done = exited();
      child?.kill('SIGKILL');
      await done;
    },
    restart: launch,
    async ensureRunning() {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGCONT');
      else await launch();
    },
    async stop() {
      const done = exited();
      child?.kill('SIGCONT');
      child?.kill('SIGTERM');
      await done;
    },
  };
}
