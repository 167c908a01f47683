/**
 * What the transport declares and sends, as RabbitMQ and a raw client see it,
 * compared with Celery 5.2's captures (test/fixtures, celery-protocol.md §3).
 */
import { readFileSync } from 'node:fs';
import { buildTaskMessage } from '@taskq/core';
import { describe, expect, it } from 'vitest';
import { AMQP_URL, connectedBroker, python, rabbitmqctl, rawChannel, useTestResources } from './helpers.js';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/amqp-task-v2-countdown-priority-expires.json', import.meta.url), 'utf8'));
const { broker, queue } = useTestResources('topo');

interface QueueRow {
  name: string;
  durable: boolean;
  auto_delete: boolean;
  arguments: Record<string, unknown> | unknown[];
}

/** rabbitmqctl lists arguments as [name, type, value] triples. */
function argsOf(row: QueueRow | undefined): Record<string, unknown> {
  const a = row?.arguments ?? [];
  return Array.isArray(a) ? Object.fromEntries(a.map((t) => [(t as unknown[])[0], (t as unknown[])[2]])) : a;
}


describe('declarations (Celery 5.2 topology)', () => {
  it('declares a durable direct exchange Q, a durable queue Q without arguments, and binds Q→Q with key Q', async () => {
    const b = await broker();
    const q = queue('plain');
    await b.publish(buildTaskMessage({ task: 't.plain' }), { queue: q });
    const [row] = (await rabbitmqctl<QueueRow>('list_queues', 'name', 'durable', 'auto_delete', 'arguments')).filter((r) => r.name === q);
    expect(row).toMatchObject({ durable: true, auto_delete: false });
    expect(argsOf(row)).toEqual({});
    const exchanges = await rabbitmqctl<{ name: string; type: string; durable: boolean }>('list_exchanges', 'name', 'type', 'durable');
    expect(exchanges.find((e) => e.name === q)).toEqual({ name: q, type: 'direct', durable: true });
    const bindings = await rabbitmqctl<{ source_name: string; destination_name: string; routing_key: string }>('list_bindings', 'source_name', 'destination_name', 'routing_key');
    expect(bindings).toContainEqual({ source_name: q, destination_name: q, routing_key: q });
  });

  it('adds x-max-priority only when max_priority is configured', async () => {
    const b = await broker({ transportOptions: { max_priority: 10 } });
    const q = queue('prio');
    await b.publish(buildTaskMessage({ task: 't.prio', priority: 7 }), { queue: q });
    const [row] = (await rabbitmqctl<QueueRow>('list_queues', 'name', 'arguments')).filter((r) => r.name === q);
    expect(argsOf(row)).toEqual({ 'x-max-priority': 10 });
    // the same type py-amqp sends, so a Python worker's declaration of the queue is equivalent
    expect((row!.arguments as unknown[][])[0]![1]).toBe('signedint');
    expect(b.capabilities).toMatchObject({ priority: true, priorityOrder: 'highest-first' });
  });

  it('declares quorum queues with x-queue-type when asked', async () => {
    const b = await broker({ transportOptions: { queue_type: 'quorum' } });
    const q = queue('quorum');
    await b.publish(buildTaskMessage({ task: 't.q' }), { queue: q });
    const [row] = (await rabbitmqctl<QueueRow>('list_queues', 'name', 'arguments')).filter((r) => r.name === q);
    expect(argsOf(row)).toEqual({ 'x-queue-type': 'quorum' });
  });

  it('refuses quorum queues with priorities, saying why', async () => {
    await expect(() => connectedBroker({ transportOptions: { queue_type: 'quorum', max_priority: 10 } })).rejects.toThrow(/quorum queues do not support x-max-priority/);
  });
});

describe('task message properties and headers', () => {
  it('publishes to the default exchange with the properties and header set of a Celery task (compact_headers: false)', async () => {
    const b = await broker({ transportOptions: { max_priority: 10, compact_headers: false } });
    const q = queue('props');
    const sent = buildTaskMessage({ task: 'interop.add', args: [2, 3], priority: 5, expirationMs: 120_000, replyTo: 'reply-q', eta: fixture.headers.eta });
    await b.publish(sent, { queue: q });
    const raw = await rawChannel();
    try {
      const got = await raw.channel.get(q, { noAck: true });
      if (got === false) throw new Error('no message in the queue');
      expect(got.fields).toMatchObject({ exchange: '', routingKey: q, redelivered: false });
      expect(got.properties).toMatchObject({
        contentType: fixture.properties.content_type,
        contentEncoding: fixture.properties.content_encoding,
        deliveryMode: 2,
        priority: 5,
        correlationId: sent.headers.id,
        replyTo: 'reply-q',
        expiration: '120000',
      });
      expect(Object.keys(got.properties.headers!).sort()).toEqual(Object.keys(fixture.headers).sort());
      expect(got.properties.headers).toMatchObject({ task: 'interop.add', id: sent.headers.id, timelimit: [null, null], retries: 0, shadow: null, ignore_result: false });
      expect(JSON.parse(got.content.toString('utf8'))).toEqual([[2, 3], {}, fixture.body[2]]);
    } finally {
      await raw.close();
    }
  });

  it('leaves out the headers whose value is null by default, and keeps every other Celery header', async () => {
    const b = await broker();
    const q = queue('compact');
    const sent = buildTaskMessage({ task: 'interop.add', args: [2, 3], eta: fixture.headers.eta, timelimit: [null, 5] });
    await b.publish(sent, { queue: q });
    const raw = await rawChannel();
    try {
      const got = await raw.channel.get(q, { noAck: true });
      if (got === false) throw new Error('no message in the queue');
      const nulls = ['shadow', 'expires', 'group', 'group_index', 'parent_id'];
      expect(Object.keys(got.properties.headers!).sort()).toEqual(Object.keys(fixture.headers).filter((k) => !nulls.includes(k)).sort());
      expect(got.properties.headers).toMatchObject({ task: 'interop.add', id: sent.headers.id, eta: fixture.headers.eta, timelimit: [null, 5], retries: 0, ignore_result: false });
      // A plain call's all-null timelimit is left out too.
      await b.publish(buildTaskMessage({ task: 'interop.add' }), { queue: q });
      const plain = await raw.channel.get(q, { noAck: true });
      if (plain === false) throw new Error('no second message in the queue');
      expect(plain.properties.headers).not.toHaveProperty('timelimit');
    } finally {
      await raw.close();
    }
  });

  it('sends header values Python (py-amqp) reads back with their types: ints, null, lists, bools', async () => {
    const b = await broker({ transportOptions: { compact_headers: false } });
    const q = queue('py');
    const sent = buildTaskMessage({ task: 'interop.add', retries: 200, groupIndex: 40000, timelimit: [10, 2.5], headers: { custom: { n: -5, l: [1, 'a', null] } } });
    await b.publish(sent, { queue: q });
    const script = `
import json, sys, amqp
conn = amqp.Connection('127.0.0.1:5672', userid='guest', password='guest', virtual_host='/')
conn.connect()
ch = conn.channel()
msg = ch.basic_get(sys.argv[1], no_ack=True)
h = msg.headers
print(json.dumps({k: h[k] for k in ('retries', 'group_index', 'timelimit', 'shadow', 'ignore_result', 'custom')}))
conn.close()
`;
    expect(AMQP_URL).toContain('127.0.0.1:5672');
    const seen = JSON.parse(await python(script, q));
    expect(seen).toEqual({ retries: 200, group_index: 40000, timelimit: [10, 2.5], shadow: null, ignore_result: false, custom: { n: -5, l: [1, 'a', null] } });
  });
});
