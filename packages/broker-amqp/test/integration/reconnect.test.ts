/**
 * Losing RabbitMQ under a running consumer and producer: `rabbitmqctl
 * stop_app` / `start_app` (always restarted in `finally`, so the machine is
 * left working). Both recover, and every confirmed message arrives.
 */
import { BrokerConnectionError, buildTaskMessage } from '@taskq/core';
import { until } from '@taskq/core/testing';
import { describe, expect, it } from 'vitest';
import { rabbitmqctl, rabbitmqctlRun, rawChannel, untilAsync, useTestResources } from './helpers.js';

const { broker, queue } = useTestResources('reconn', { transportOptions: { reconnect_initial_delay_ms: 50, reconnect_max_delay_ms: 500 } });
const message = (n: number) => buildTaskMessage({ task: 't.reconnect', args: [n] });

async function withRabbitStopped<T>(fn: () => Promise<T>): Promise<T> {
  await rabbitmqctlRun('stop_app');
  try {
    return await fn();
  } finally {
    await rabbitmqctlRun('start_app');
    await rabbitmqctlRun('await_startup');
  }
}

/** The broker-side pid of our connection, found by its port (`close_connection` wants the plain `<node.x.y.z>` form). */
async function connectionPid(localPort: number): Promise<string> {
  const { execFile } = await import('node:child_process');
  const out = await new Promise<string>((resolve, reject) =>
    execFile('rabbitmqctl', ['list_connections', '-q', 'pid', 'peer_port'], (e, stdout) => (e ? reject(e) : resolve(stdout))),
  );
  const line = out.split('\n').find((l) => l.split('\t')[1]?.trim() === String(localPort));
  if (!line) throw new Error(`no RabbitMQ connection from port ${localPort}`);
  return line.split('\t')[0]!;
}


describe('reconnects', () => {
  it('a consumer and a producer survive a RabbitMQ restart, and every confirmed message is delivered', async () => {
    const producer = await broker({ connectionTimeoutMs: 60_000 });
    const worker = await broker();
    const q = queue('restart');
    const seen = new Set<number>();
    const consumer = await worker.consume([q], (d) => {
      seen.add(d.message.body[0][0] as number);
      void d.ack();
    }, { prefetch: 5 });
    for (let i = 0; i < 10; i++) await producer.publish(message(i), { queue: q });
    await until(() => seen.size === 10, 5000, 'the first ten messages');

    const during = await withRabbitStopped(async () => {
      await until(() => !producer.connection.isConnected && !worker.connection.isConnected, 10_000, 'both connections to notice the loss');
      // Published while RabbitMQ is down: they wait for the connection to come back.
      return Array.from({ length: 10 }, (_, i) => producer.publish(message(10 + i), { queue: q }));
    });
    await Promise.all(during);
    for (let i = 20; i < 30; i++) await producer.publish(message(i), { queue: q });
    await until(() => seen.size === 30, 30_000, 'all thirty messages');
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    await consumer.close();
  }, 90_000);

  it('fails a publish with BrokerConnectionError when the broker stays away longer than brokerConnectionTimeout, then recovers', async () => {
    const producer = await broker({ connectionTimeoutMs: 300 });
    const q = queue('timeout');
    await producer.publish(message(0), { queue: q });
    await withRabbitStopped(async () => {
      await until(() => !producer.connection.isConnected, 10_000, 'the connection to notice the loss');
      await expect(producer.publish(message(1), { queue: q })).rejects.toBeInstanceOf(BrokerConnectionError);
    });
    await untilAsync(async () => producer.publish(message(2), { queue: q }).then(() => true, () => false), 30_000, 'a publish to succeed again');
    expect(await producer.queueSize(q)).toBe(2);
  }, 90_000);

  it('re-consumes after the server cancels the consumer (queue deleted), declaring the queue again', async () => {
    const b = await broker();
    const q = queue('cancelled');
    const seen: number[] = [];
    const consumer = await b.consume([q], (d) => {
      seen.push(d.message.body[0][0] as number);
      void d.ack();
    }, { prefetch: 1 });
    const raw = await rawChannel();
    try {
      await raw.channel.deleteQueue(q);
    } finally {
      await raw.close();
    }
    const consumers = async () => (await rabbitmqctl<{ name: string; consumers: number }>('list_queues', 'name', 'consumers')).find((r) => r.name === q)?.consumers ?? 0;
    await untilAsync(async () => (await consumers()) === 1, 20_000, 'the queue to be declared and consumed again');
    await b.publish(message(7), { queue: q });
    await until(() => seen.length === 1, 5000, 'a delivery on the new consumer');
    expect(seen).toEqual([7]);
    await consumer.close();
  }, 60_000);

  it('resumes consuming when its connection is force-closed (rabbitmqctl close_connection)', async () => {
    const b = await broker();
    const q = queue('forced');
    const seen: number[] = [];
    const consumer = await b.consume([q], (d) => {
      seen.push(d.message.body[0][0] as number);
      void d.ack();
    }, { prefetch: 1 });
    const generation = b.connection.generation;
    const pid = await connectionPid(b.connection.localPort!);
    await rabbitmqctlRun('close_connection', pid, 'taskq reconnect test');
    await until(() => b.connection.generation > generation, 20_000, 'a new connection');
    await b.publish(message(1), { queue: q });
    await until(() => seen.length === 1, 10_000, 'a delivery after the reconnect');
    await consumer.close();
  }, 60_000);
});
