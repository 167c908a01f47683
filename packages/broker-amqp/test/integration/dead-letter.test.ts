/**
 * Malformed messages are moved to the dead-letter queue with the reason in a
 * header, the original is acked, the consumer keeps going — one test per kind.
 */
import { randomUUID } from 'node:crypto';
import { type Delivery, type InvalidMessage, buildTaskMessage } from '@taskq/core';
import { until } from '@taskq/core/testing';
import type { Options } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AmqpBroker, DEAD_QUEUE_HEADER, DEAD_REASON_HEADER } from '../../src/index.js';
import { connectedBroker, deleteQueues, rawChannel, uniqueQueue } from './helpers.js';

const deadQueue = uniqueQueue('dead');
const queues: string[] = [deadQueue];
let broker: AmqpBroker;

beforeAll(async () => {
  broker = await connectedBroker({ transportOptions: { dead_letter_queue: deadQueue } });
});
afterAll(async () => {
  await broker.close();
  await deleteQueues(queues);
});

const id = randomUUID();
const goodHeaders = { task: 't.ok', id, lang: 'py' };
const json = { contentType: 'application/json', contentEncoding: 'utf-8' };

/** Publish one raw message then a good one; consume both; return what was reported invalid and what was delivered. */
async function feed(body: string, options: Options.Publish): Promise<{ invalid: InvalidMessage; delivered: Delivery; queue: string }> {
  const q = uniqueQueue('dl');
  queues.push(q);
  await broker.topology.declare(broker.queueSpec(q));
  const raw = await rawChannel();
  try {
    raw.channel.sendToQueue(q, Buffer.from(body, 'utf8'), options);
    await raw.channel.close();
  } finally {
    await raw.close();
  }
  await broker.publish(buildTaskMessage({ task: 't.after', args: [2] }), { queue: q });
  const invalid: InvalidMessage[] = [];
  const delivered: Delivery[] = [];
  const consumer = await broker.consume([q], (d) => delivered.push(d), { prefetch: 1, onInvalid: (i) => invalid.push(i) });
  await until(() => invalid.length === 1 && delivered.length === 1, 5000, 'one invalid report and the good message after it');
  await delivered[0]!.ack();
  await consumer.close();
  return { invalid: invalid[0]!, delivered: delivered[0]!, queue: q };
}

/** Take the dead-lettered copy for `queue` from the dead-letter queue. */
async function deadCopy(queue: string): Promise<{ body: string; headers: Record<string, unknown> }> {
  const raw = await rawChannel();
  try {
    for (;;) {
      const got = await raw.channel.get(deadQueue, { noAck: true });
      if (got === false) throw new Error(`no dead-lettered message from ${queue}`);
      const headers = got.properties.headers ?? {};
      if (headers[DEAD_QUEUE_HEADER] === queue) return { body: got.content.toString('utf8'), headers };
    }
  } finally {
    await raw.close();
  }
}

describe('dead-lettering malformed messages', () => {
  it.each([
    ['a body that is not JSON', 'not json {', { ...json, headers: goodHeaders }, /body/],
    ['no headers.task and a body that is not protocol v1', '[[1], {}, {}]', { ...json, headers: {} }, /headers\.task/],
    ['an unknown content type', '\x80\x03pickle', { contentType: 'application/x-python-serialize', headers: goodHeaders }, /content type/],
    ['a missing content type', '[[1], {}, {}]', { headers: goodHeaders }, /content-type/],
    ['a body of 2 elements', '[[1], {}]', { ...json, headers: goodHeaders }, /3 elements/],
    ['a timelimit that is not [hard, soft]', '[[1], {}, {}]', { ...json, headers: { ...goodHeaders, timelimit: 5 } }, /timelimit/],
    ['an eta that is not a date', '[[1], {}, {}]', { ...json, headers: { ...goodHeaders, eta: 'tomorrow' } }, /eta/],
  ] as const)('dead-letters %s, with the reason in a header, and keeps consuming', async (_kind, body, options, reason) => {
    const { invalid, delivered, queue } = await feed(body, options as Options.Publish);
    expect(invalid.queue).toBe(queue);
    expect(invalid.deadLetteredTo).toBe(deadQueue);
    expect(invalid.error.message).toMatch(reason);
    expect(delivered.message.headers.task).toBe('t.after');
    const copy = await deadCopy(queue);
    expect(copy.body).toBe(body);
    expect(String(copy.headers[DEAD_REASON_HEADER])).toMatch(reason);
    expect(await broker.queueSize(queue)).toBe(0);
  });
});
