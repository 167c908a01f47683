/** Publisher confirms: a publish resolves once RabbitMQ has the message, and every refusal is an error. */
import { BrokerChannelError, buildTaskMessage } from '@taskq/core';
import { describe, expect, it } from 'vitest';
import { rawChannel, useTestResources } from './helpers.js';

const { broker, queue } = useTestResources('pub');
const message = () => buildTaskMessage({ task: 't.pub', args: [1] });

describe('publisher confirms', () => {
  it('resolves only once the broker holds the message', async () => {
    const b = await broker();
    const q = queue('confirmed');
    await b.publish(message(), { queue: q });
    expect(await b.queueSize(q)).toBe(1);
  });

  it('rejects an unroutable (mandatory) message with a BrokerChannelError naming the routing key', async () => {
    const b = await broker();
    const q = queue('unroutable');
    const key = `nobody-bound-${q}`;
    const error = await b.publish(message(), { queue: q, exchange: 'amq.direct', routingKey: key }).catch((e) => e);
    expect(error).toBeInstanceOf(BrokerChannelError);
    expect(error.message).toContain(key);
    expect(error.message).toContain('could not route');
  });

  it('rejects a message the broker nacks (queue full with reject-publish)', async () => {
    const b = await broker();
    const q = queue('nack-route');
    const full = queue('nack-full');
    const raw = await rawChannel();
    try {
      await raw.channel.assertExchange(full, 'direct', { durable: false, autoDelete: false });
      await raw.channel.assertQueue(full, { durable: false, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
      await raw.channel.bindQueue(full, full, 'k');
    } finally {
      await raw.close();
    }
    await b.publish(message(), { queue: q, exchange: full, routingKey: 'k' });
    const error = await b.publish(message(), { queue: q, exchange: full, routingKey: 'k' }).catch((e) => e);
    expect(error).toBeInstanceOf(BrokerChannelError);
    expect(error.message).toMatch(/nacked/);
  });

  it('turns a publish to a missing exchange into a BrokerChannelError, and keeps publishing afterwards', async () => {
    const b = await broker();
    const q = queue('after-404');
    const error = await b.publish(message(), { queue: q, exchange: `no-such-exchange-${q}`, routingKey: q }).catch((e) => e);
    expect(error).toBeInstanceOf(BrokerChannelError);
    expect(error.message).toMatch(/NOT_FOUND/);
    await b.publish(message(), { queue: q });
    expect(await b.queueSize(q)).toBe(1);
  });
});

describe('a queue that exists with other arguments (406)', () => {
  it('says what differs and how to fix it', async () => {
    const q = queue('mismatch');
    const raw = await rawChannel();
    try {
      await raw.channel.assertQueue(q, { durable: true, arguments: { 'x-max-priority': 5 } });
    } finally {
      await raw.close();
    }
    const b = await broker();
    const error = await b.publish(message(), { queue: q }).catch((e) => e);
    expect(error).toBeInstanceOf(BrokerChannelError);
    expect(error.message).toContain(`queue "${q}" already exists with different settings`);
    expect(error.message).toContain("inequivalent arg 'x-max-priority'");
    expect(error.message).toContain('delete the queue');
    expect(error.message).toContain('max_priority');
  });

  it('reopens the channel: the broker keeps working for other queues', async () => {
    const q = queue('mismatch2');
    const raw = await rawChannel();
    try {
      await raw.channel.assertQueue(q, { durable: false });
    } finally {
      await raw.close();
    }
    const b = await broker();
    await expect(b.publish(message(), { queue: q })).rejects.toBeInstanceOf(BrokerChannelError);
    const other = queue('fine');
    await b.publish(message(), { queue: other });
    expect(await b.queueSize(other)).toBe(1);
  });

  it('fails consume() the same way', async () => {
    const q = queue('mismatch3');
    const raw = await rawChannel();
    try {
      await raw.channel.assertQueue(q, { durable: true, arguments: { 'x-max-priority': 5 } });
    } finally {
      await raw.close();
    }
    const b = await broker({ transportOptions: { max_priority: 10 } });
    await expect(b.consume([q], () => {}, { prefetch: 1 })).rejects.toThrow(/x-max-priority/);
  });
});
