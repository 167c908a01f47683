import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Delivery, InvalidMessage } from '../src/broker.js';
import { DecodeError } from '../src/errors.js';
import { buildTaskMessage } from '../src/message.js';
import { toWireMessage, type WireMessage } from '../src/message-codec.js';
import { createMemoryBroker } from '../src/memory/memory-broker.js';
import { createMemoryResultBackend } from '../src/memory/memory-result-backend.js';
import { describeBrokerConformance, describeResultBackendConformance, until } from '../src/testing/index.js';

const brokerUrl = `memory://conf-${randomUUID()}`;
describeBrokerConformance({
  name: 'memory',
  createBroker: async () => {
    const broker = createMemoryBroker(brokerUrl);
    await broker.connect();
    return broker;
  },
});

const backendUrl = `memory://conf-${randomUUID()}`;
describeResultBackendConformance({
  name: 'memory',
  createBackend: async () => createMemoryResultBackend(backendUrl),
});

describe('memory:// with malformed messages', () => {
  it('dead-letters them with the reason, reports them, and delivers the messages behind them', async () => {
    const broker = createMemoryBroker(`memory://bad-${randomUUID()}`);
    const queue = 'mixed';
    const good = (n: number): WireMessage => toWireMessage(buildTaskMessage({ task: 't', args: [n] }));
    broker.publishWire(good(1), queue);
    broker.publishWire({ ...good(2), body: '[[2], {}]' }, queue);
    broker.publishWire({ ...good(3), body: 'not json' }, queue);
    broker.publishWire(good(4), queue);

    const delivered: Delivery[] = [];
    const invalid: InvalidMessage[] = [];
    const consumer = await broker.consume([queue], (d) => {
      delivered.push(d);
      void d.ack();
    }, { prefetch: 1, onInvalid: (i) => invalid.push(i) });
    await until(() => delivered.length === 2 && invalid.length === 2, 5000, 'two deliveries and two invalid reports');
    await consumer.close();

    expect(delivered.map((d) => d.message.body[0])).toEqual([[1], [4]]);
    expect(invalid.map((i) => i.error)).toEqual([expect.any(DecodeError), expect.any(DecodeError)]);
    expect(invalid.map((i) => (i.error as DecodeError).field)).toEqual(['body', 'body']);
    expect(invalid[1]!.preview).toBe('not json');
    expect(invalid[0]!.deadLetteredTo).toContain(queue);
    const dead = broker.deadLetters(queue);
    expect(dead).toHaveLength(2);
    expect(dead[0]!.reason).toMatch(/body: must be \[args, kwargs, embed\]/);
    expect(dead[1]!.reason).toMatch(/body: not valid JSON/);
    expect(await broker.queueSize(queue)).toBe(0);
  });

  it('dead-letters a message with an unaccepted content type without delivering it', async () => {
    const broker = createMemoryBroker(`memory://bad-${randomUUID()}`);
    const wire = toWireMessage(buildTaskMessage({ task: 't' }));
    broker.publishWire({ ...wire, contentType: 'application/x-python-serialize' }, 'q');
    const invalid: InvalidMessage[] = [];
    const delivered: Delivery[] = [];
    const consumer = await broker.consume(['q'], (d) => delivered.push(d), { prefetch: 1, onInvalid: (i) => invalid.push(i) });
    await until(() => invalid.length === 1, 5000, 'the invalid report');
    await consumer.close();
    expect(invalid[0]!.error.code).toBe('TASKQ_ERR_CONTENT_DISALLOWED');
    expect(delivered).toEqual([]);
  });
});

describe('memory:// isolation', () => {
  it('shares queues between brokers of the same URL, and only those', async () => {
    const name = `iso-${randomUUID()}`;
    const a = createMemoryBroker(`memory://${name}`);
    const b = createMemoryBroker(`memory://${name}/`);
    const other = createMemoryBroker(`memory://${name}-other`);
    await a.publish(buildTaskMessage({ task: 't' }), { queue: 'q' });
    expect(await b.queueSize('q')).toBe(1);
    expect(await other.queueSize('q')).toBe(0);
  });

  it('refuses to consume after close() with a BrokerConnectionError', async () => {
    const broker = createMemoryBroker(`memory://closed-${randomUUID()}`);
    await broker.close();
    await expect(broker.consume(['q'], () => {}, { prefetch: 1 })).rejects.toThrow(/was closed/);
  });
});
