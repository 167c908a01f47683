/**
 * A TCP proxy that delays every chunk by DELAY_MS in each direction: the bench
 * against a Redis that is a network hop away, on one machine.
 *
 *   DELAY_MS=0.5 npx tsx src/latency-proxy.ts 6390 127.0.0.1:6379 &
 *   BENCH_REDIS_URL=redis://127.0.0.1:6390/8 BENCH_ROWS=e2e,rtt pnpm bench --only redis
 *
 * Node's timers have a 1 ms resolution, so a delay below 1 ms becomes about
 * 1 ms per direction (check with `redis-cli -p 6390 --latency`). Equal delays
 * keep each direction's order. Both sockets run with Nagle off, as Redis
 * clients do: with it on, a small write waits for the ACK of the one before
 * (up to 40 ms with delayed ACKs), which measures the proxy, not the client.
 * The proxy takes CPU of its own on the same cores as the rest: compare
 * systems measured through it, not with runs without it.
 */
import net from 'node:net';

const DELAY_MS = Number(process.env.DELAY_MS ?? 0.5);
const listenPort = Number(process.argv[2] ?? 6390);
const [targetHost, targetPort] = (process.argv[3] ?? '127.0.0.1:6379').split(':') as [string, string];

function forward(from: net.Socket, to: net.Socket): void {
  from.on('data', (chunk) => setTimeout(() => to.write(chunk), DELAY_MS));
  from.on('close', () => setTimeout(() => to.destroy(), DELAY_MS));
  from.on('error', () => to.destroy());
}

net
  .createServer((client) => {
    const server = net.connect(Number(targetPort), targetHost);
    client.setNoDelay(true);
    server.setNoDelay(true);
    forward(client, server);
    forward(server, client);
  })
  .listen(listenPort, '127.0.0.1', () => process.stderr.write(`latency proxy: 127.0.0.1:${listenPort} → ${targetHost}:${targetPort}, +${DELAY_MS} ms each way\n`));
