/**
 * rpc:// results (celery-protocol.md §4.4): states published to the client's
 * reply queue with correlation_id = task id, read by the process owning it.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createApp, type ResultMeta, traceTask } from '@taskq/core';
import { afterAll, describe, expect, it } from 'vitest';
import { type AmqpBroker, createRpcResultBackend, type RpcResultBackend } from '../../src/index.js';
import { AMQP_URL, deleteQueues, rabbitmqctl, rawChannel, silent, uniqueQueue, untilQueueExists } from './helpers.js';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/result-rpc-success.json', import.meta.url), 'utf8'));
const queues: string[] = [];
const closeables: Array<{ close(): Promise<void> }> = [];

async function backend(oid = uniqueQueue('rpc-oid')): Promise<RpcResultBackend> {
  queues.push(oid);
  const b = createRpcResultBackend({ url: AMQP_URL, oid, log: silent, resultExpires: 120 });
  await b.connect();
  closeables.push(b);
  return b;
}
const success = (id: string, result: unknown): ResultMeta => ({ status: 'SUCCESS', result, traceback: null, children: [], date_done: null, task_id: id });

afterAll(async () => {
  for (const c of closeables) await c.close();
  await deleteQueues(queues);
});

describe('rpc:// result backend', () => {
  it("delivers a worker's state to the client that owns the reply queue", async () => {
    const [client, worker] = [await backend(), await backend()];
    const id = randomUUID();
    const waiting = client.wait(id, { timeoutMs: 5000 });
    // The reply queue must exist before the reply is sent, or the broker drops it (unroutable).
    await untilQueueExists(client.oid);
    await worker.store(id, success(id, 5), { replyTo: client.oid });
    expect(await waiting).toMatchObject({ status: 'SUCCESS', result: 5, task_id: id });
  });

  it('declares the reply queue non-durable, auto-delete, with x-expires = result_expires in ms', async () => {
    const client = await backend();
    const id = randomUUID();
    await client.wait(id, { timeoutMs: 50 }).catch(() => {});
    const row = (await rabbitmqctl<{ name: string; durable: boolean; auto_delete: boolean; arguments: unknown[][] }>('list_queues', 'name', 'durable', 'auto_delete', 'arguments')).find(
      (r) => r.name === client.oid,
    );
    expect(row).toMatchObject({ durable: false, auto_delete: true });
    expect(row!.arguments).toContainEqual(['x-expires', 'signedint', 120_000]);
  });

  it('publishes results as Celery does: transient, correlation_id = task id, the five body fields', async () => {
    const worker = await backend();
    const replyQueue = uniqueQueue('rpc-raw');
    queues.push(replyQueue);
    const raw = await rawChannel();
    try {
      await raw.channel.assertQueue(replyQueue, { durable: false, autoDelete: true });
      const id = randomUUID();
      await worker.store(id, success(id, 5), { replyTo: replyQueue });
      const got = await raw.channel.get(replyQueue, { noAck: true });
      if (got === false) throw new Error('no result message');
      expect(got.fields).toMatchObject({ exchange: '', routingKey: replyQueue });
      expect(got.properties).toMatchObject({ contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 1, priority: 0, correlationId: id });
      const body = JSON.parse(got.content.toString('utf8'));
      expect(Object.keys(body).sort()).toEqual(Object.keys(fixture.body).sort());
      expect(body).toEqual({ ...fixture.body, task_id: id });
    } finally {
      await raw.close();
    }
  });

  it('reads a reply that arrived before anyone asked (get drains the queue)', async () => {
    const worker = await backend();
    const oid = uniqueQueue('rpc-early');
    queues.push(oid);
    const raw = await rawChannel();
    try {
      // declared as a client does before sending (Celery's on_task_call), nobody consuming yet
      await raw.channel.assertQueue(oid, { durable: false, autoDelete: true, arguments: { 'x-expires': 120_000 } });
    } finally {
      await raw.close();
    }
    const id = randomUUID();
    await worker.store(id, success(id, 'early'), { replyTo: oid });
    const reader = await backend(oid);
    expect(await reader.get(id)).toMatchObject({ status: 'SUCCESS', result: 'early' });
  });

  it('reads a Celery-format reply a Python worker would send', async () => {
    const client = await backend();
    const id = randomUUID();
    const waiting = client.wait(id, { timeoutMs: 5000 });
    // The reply queue must exist before the reply is sent, or the broker drops it (unroutable).
    await untilQueueExists(client.oid);
    const raw = await rawChannel();
    try {
      const body = { ...fixture.body, task_id: id };
      raw.channel.sendToQueue(client.oid, Buffer.from(JSON.stringify(body)), { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 1, correlationId: id, headers: {} });
      expect(await waiting).toMatchObject({ status: 'SUCCESS', result: 5, traceback: null, children: [] });
    } finally {
      await raw.close();
    }
  });

  it("is private to the reply queue's owner: another process's backend does not see the state", async () => {
    const [owner, stranger] = [await backend(), await backend()];
    const id = randomUUID();
    await owner.wait(randomUUID(), { timeoutMs: 1 }).catch(() => {});
    await stranger.store(id, success(id, 1), { replyTo: owner.oid });
    expect(await stranger.get(id)).toBeUndefined();
    expect((await owner.wait(id, { timeoutMs: 5000 })).result).toBe(1);
  });
});

describe('rpc:// with an app: send, run, get', () => {
  it('an app on amqp:// + rpc:// gets the result a worker stored for its task', async () => {
    const q = uniqueQueue('rpc-app');
    queues.push(q);
    const config = { brokerUrl: AMQP_URL, resultBackend: 'rpc://', logger: silent, env: {} };
    const client = createApp(config);
    const worker = createApp(config);
    worker.task('rpc.add', (a: number, b: number) => a + b);
    closeables.push(client, worker);
    const result = await client.sendTask('rpc.add', [2, 3], {}, { queue: q });
    // The client's broker declared its reply queue (named by app.oid) before publishing, as Celery's on_task_call does.
    queues.push(client.oid);
    const workerBroker = (await worker.getBroker()) as AmqpBroker;
    const consumer = await workerBroker.consume([q], async (d) => {
      await traceTask(worker, d.message, { hostname: 'test-worker' });
      await d.ack();
    }, { prefetch: 1 });
    expect(await result.get({ timeout: 10_000 })).toBe(5);
    await consumer.close();
  });

  it('does not declare reply queues when the result backend is not rpc:// (e.g. Redis with an AMQP broker)', async () => {
    const q = uniqueQueue('no-rpc');
    queues.push(q);
    const app = createApp({ brokerUrl: AMQP_URL, resultBackend: 'redis://127.0.0.1:6379/0', logger: silent, env: {} });
    closeables.push(app);
    await app.sendTask('rpc.none', [], {}, { queue: q });
    const names = (await rabbitmqctl<{ name: string }>('list_queues', 'name')).map((r) => r.name);
    expect(names).toContain(q);
    expect(names).not.toContain(app.oid);
  });
});

