import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Control, EVENT_EXCHANGE, MailboxNode, nodeBinding, PIDBOX_EXCHANGE, type ReceivedBroadcast, replyBinding, REPLY_EXCHANGE } from '@taskq/core';
import type { Redis } from 'ioredis';
import { type RedisBroker, openBroadcastEnvelope } from '../../src/index.js';
import { brokerFor, deletePrefix, freshPrefix, rawClient, silent } from './helpers.js';

const DB = 7;
const SEP = '\x06\x16';

describe('broadcast exchanges on Redis (kombu PUB/SUB and binding sets)', () => {
  let raw: Redis;
  let sub: Redis;
  let broker: RedisBroker;
  const prefix = freshPrefix('fanout');

  beforeAll(async () => {
    raw = await rawClient(DB);
    sub = await rawClient(DB);
    broker = brokerFor(DB, prefix);
    await broker.connect();
  });

  afterAll(async () => {
    await broker.close();
    await deletePrefix(raw, prefix);
    raw.disconnect();
    sub.disconnect();
  });

  it('publishes a control request on /<db>.celery.pidbox in kombu’s envelope', async () => {
    const channel = `${prefix}/${DB}.celery.pidbox`;
    const got = new Promise<string>((resolve) => sub.on('message', (_c: string, m: string) => resolve(m)));
    await sub.subscribe(channel);
    await broker.fanout().publish(PIDBOX_EXCHANGE, '', { body: { method: 'ping' }, headers: { clock: 1 }, deliveryMode: 2 });
    const envelope = JSON.parse(await got);
    expect(envelope.properties).toMatchObject({ delivery_mode: 2, delivery_info: { exchange: 'celery.pidbox', routing_key: '' }, priority: 0, body_encoding: 'base64' });
    expect(JSON.parse(Buffer.from(envelope.body, 'base64').toString())).toEqual({ method: 'ping' });
    await sub.unsubscribe(channel);
  });

  it('delivers events by topic pattern on /<db>.celeryev/<routing key>', async () => {
    const fanout = broker.fanout();
    const seen: ReceivedBroadcast[] = [];
    const s = await fanout.subscribe({ exchange: EVENT_EXCHANGE, bindingKey: 'worker.#', queue: 'celeryev.test' }, (m) => seen.push(m));
    await raw.publish(`${prefix}/${DB}.celeryev/task.sent`, JSON.stringify({ body: 'e30=', headers: {}, properties: { body_encoding: 'base64', delivery_info: { exchange: 'celeryev', routing_key: 'task.sent' } } }));
    await fanout.publish(EVENT_EXCHANGE, 'worker.heartbeat', { body: { type: 'worker-heartbeat' }, headers: { hostname: 'w@h' } });
    await expect.poll(() => seen.length).toBe(1);
    expect(seen[0]).toMatchObject({ routingKey: 'worker.heartbeat', exchange: 'celeryev', body: { type: 'worker-heartbeat' }, headers: { hostname: 'w@h' } });
    await s.close();
  });

  it('routes a reply through _kombu.binding.reply.celery.pidbox to <oid>.reply.celery.pidbox, and cleans up after', async () => {
    const fanout = broker.fanout();
    const oid = 'oid-1';
    const seen: ReceivedBroadcast[] = [];
    const s = await fanout.subscribe(replyBinding(oid), (m) => seen.push(m));
    expect(await raw.smembers(`${prefix}_kombu.binding.reply.celery.pidbox`)).toContain(`${oid}${SEP}${SEP}${oid}.reply.celery.pidbox`);
    await fanout.publish(REPLY_EXCHANGE, oid, { body: { 'w@h': { ok: 'pong' } }, headers: { ticket: 't', clock: 3 } });
    await expect.poll(() => seen.length).toBe(1);
    expect(seen[0]!.body).toEqual({ 'w@h': { ok: 'pong' } });
    await s.close();
    expect(await raw.smembers(`${prefix}_kombu.binding.reply.celery.pidbox`)).not.toContain(`${oid}${SEP}${SEP}${oid}.reply.celery.pidbox`);
  });

  it('sends nothing for a reply nobody is bound to', async () => {
    await broker.fanout().publish(REPLY_EXCHANGE, 'nobody', { body: {}, headers: {} });
    expect(await raw.exists(`${prefix}nobody.reply.celery.pidbox`)).toBe(0);
  });

  it('answers app.control over Redis from a mailbox node, binding <nodename>.celery.pidbox', async () => {
    const node = new MailboxNode({ nodename: 'n1@host', fanout: broker.fanout(), log: silent, handlers: { ping: () => ({ ok: 'pong' }) } });
    await node.start();
    expect(await raw.smembers(`${prefix}_kombu.binding.celery.pidbox`)).toContain(`${SEP}${SEP}${nodeBinding('n1@host').queue}`);
    const client = brokerFor(DB, prefix);
    const control = new Control({ getBroker: async () => client });
    // The 5 s timeout is not waited for: one destination, so the first reply ends the wait.
    expect(await control.ping({ destination: ['n1@host'], timeout: 5 })).toEqual([{ 'n1@host': { ok: 'pong' } }]);
    await node.stop();
    await client.close();
  });

  it('opens the reply envelope a Celery worker writes', () => {
    const raw = {
      body: Buffer.from('{"w@h": {"ok": "pong"}}').toString('base64'),
      'content-encoding': 'utf-8',
      'content-type': 'application/json',
      headers: { ticket: 'x', clock: 3 },
      properties: { delivery_mode: 1, delivery_info: { exchange: 'reply.celery.pidbox', routing_key: 'k' }, priority: 0, body_encoding: 'base64', delivery_tag: 'd' },
    };
    expect(openBroadcastEnvelope(JSON.stringify(raw))).toEqual({ body: { 'w@h': { ok: 'pong' } }, headers: { ticket: 'x', clock: 3 }, deliveryMode: 1, routingKey: 'k', exchange: 'reply.celery.pidbox' });
  });

  it('names channels per kombu’s fanout_prefix and fanout_patterns options', () => {
    expect(broker.fanout().channel('celeryev', 'worker.heartbeat')).toBe(`${prefix}/${DB}.celeryev/worker.heartbeat`);
    const custom = brokerFor(DB, '', { transportOptions: { fanout_prefix: 'pfx.', fanout_patterns: false } });
    expect(custom.fanout().channel('celeryev', 'worker.heartbeat')).toBe('pfx.celeryev');
    const none = brokerFor(DB, '', { transportOptions: { fanout_prefix: false } });
    expect(none.fanout().channel('celery.pidbox', '')).toBe('celery.pidbox');
    custom.destroy();
    none.destroy();
  });
});
