import { randomUUID } from 'node:crypto';
import { Control, EventReceiver, EventSender, MailboxNode, nodeBinding, type CeleryEvent } from '@taskq/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AmqpBroker } from '../../src/index.js';
import { connectedBroker, rawChannel, silent } from './helpers.js';

describe('broadcast exchanges on RabbitMQ (Celery’s pidbox and celeryev topology)', () => {
  let broker: AmqpBroker;
  let client: AmqpBroker;

  beforeAll(async () => {
    broker = await connectedBroker();
    client = await connectedBroker();
  });
  afterAll(async () => {
    await Promise.all([broker?.close(), client?.close()]);
  });

  it('declares <nodename>.celery.pidbox as Celery does and answers app.control through it', async () => {
    const nodename = `amqp-node-${randomUUID().slice(0, 8)}@test`;
    const node = new MailboxNode({ nodename, fanout: broker.fanout(), log: silent, handlers: { ping: () => ({ ok: 'pong' }) } });
    await node.start();
    const raw = await rawChannel();
    try {
      // Re-declaring with Celery's exact arguments succeeds only if ours match (else 406 PRECONDITION_FAILED).
      const q = nodeBinding(nodename);
      await raw.channel.assertQueue(q.queue, { durable: false, autoDelete: true, arguments: q.queueArguments });
    } finally {
      await raw.close();
    }
    const control = new Control({ getBroker: async () => client });
    // One destination: the first reply ends the wait (the 5 s timeout is not waited for).
    expect(await control.ping({ destination: [nodename], timeout: 5 })).toEqual([{ [nodename]: { ok: 'pong' } }]);
    await node.stop();
  });

  it('delivers events on the celeryev topic exchange to a receiver bound by pattern', async () => {
    const hostname = `amqp-ev-${randomUUID().slice(0, 8)}@test`;
    const seen: CeleryEvent[] = [];
    const receiver = new EventReceiver({ fanout: client.fanout(), bindingKey: 'task.#', onEvent: (e) => e.hostname === hostname && seen.push(e) });
    await receiver.start();
    const sender = new EventSender({ fanout: broker.fanout(), hostname });
    await sender.send('worker-heartbeat', { freq: 2 });
    await sender.send('task-started', { uuid: 'abc' });
    await expect.poll(() => seen.map((e) => e.type)).toEqual(['task-started']);
    await receiver.close();
  });
});
