/**
 * The bytes on Redis are kombu's: checked with a raw client after publish,
 * fetch and ack, against envelopes captured from Celery 5.2 (test/fixtures).
 */
import { readFileSync } from 'node:fs';
import { buildTaskMessage, type Delivery } from '@taskq/core';
import { until } from '@taskq/core/testing';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { kombu, type RedisBroker, type RedisDelivery } from '../../src/index.js';
import { FETCH_LUA } from '../../src/lua-scripts.js';
import { brokerFor, freshPrefix, useBroker } from './helpers.js';

const DB = 10;
const SEP = '\x06\x16';
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const fixture = (name: string): any => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));
const celeryEnvelope = fixture('redis-task-v2-basic.json');
const celeryUnacked = fixture('redis-unacked-entry.json');

const prefix = freshPrefix('layout');
let raw: Redis;
let broker: RedisBroker;
let n = 0;
const queueName = (): string => `layout-q${++n}`;
const send = (queue: string, args: unknown[] = [2, 3], priority?: number) =>
  broker.publish(buildTaskMessage({ task: 'interop.add', args, replyTo: 'bc37c958-699b-3c7f-b1ac-f3c6a43d414c', priority }), { queue });

/** Take `count` deliveries with a fresh consumer and stop it, leaving them unacked. */
async function take(queues: string[], count: number): Promise<Delivery[]> {
  const got: Delivery[] = [];
  const c = await broker.consume(queues, (d) => got.push(d), { prefetch: count });
  await until(() => got.length >= count, 5000, `${count} deliveries`);
  await c.stop();
  return got;
}

useBroker(DB, prefix, (r, b) => {
  raw = r;
  broker = b;
});

/** The header names of Celery's envelope whose value is null (or `timelimit` `[null, null]`): what compact_headers leaves out. */
const NULL_HEADERS = ['shadow', 'eta', 'expires', 'group', 'group_index', 'timelimit', 'parent_id'];

describe('publish', () => {
  it('LPUSHes a kombu envelope onto the list named by the queue, under global_keyprefix', async () => {
    const q = queueName();
    await send(q);
    expect(await raw.exists(q)).toBe(0);
    const [text] = await raw.lrange(prefix + q, 0, -1);
    const env = JSON.parse(text!);
    expect(Object.keys(env)).toEqual(Object.keys(celeryEnvelope));
    // compact_headers (the default): Celery's headers but those whose value is null.
    expect(Object.keys(env.headers).sort()).toEqual(Object.keys(celeryEnvelope.headers).filter((k) => !NULL_HEADERS.includes(k)).sort());
    expect(Object.keys(env.properties).sort()).toEqual(Object.keys(celeryEnvelope.properties).sort());
    expect(env['content-type']).toBe('application/json');
    expect(env['content-encoding']).toBe('utf-8');
    expect(env.properties).toMatchObject({ delivery_mode: 2, priority: 0, body_encoding: 'base64', delivery_info: { exchange: '', routing_key: q } });
    expect(env.properties.delivery_tag).toMatch(UUID4);
    expect(env.properties.correlation_id).toBe(env.headers.id);
  });

  it("writes Celery's 16 headers, nulls included, with compact_headers: false", async () => {
    const full = brokerFor(DB, prefix, { transportOptions: { compact_headers: false } });
    await full.connect();
    try {
      const q = queueName();
      await full.publish(buildTaskMessage({ task: 'interop.add', args: [2, 3] }), { queue: q });
      const env = JSON.parse((await raw.rpop(prefix + q))!);
      expect(Object.keys(env.headers).sort()).toEqual(Object.keys(celeryEnvelope.headers).sort());
      expect(env.headers).toMatchObject({ shadow: null, eta: null, expires: null, group: null, group_index: null, timelimit: [null, null], parent_id: null });
    } finally {
      await full.close();
    }
  });

  it('keeps a header that has a value when compacting: eta, expires, group, a partial timelimit', async () => {
    const q = queueName();
    const eta = '2030-01-01T00:00:00+00:00';
    await broker.publish(buildTaskMessage({ task: 'interop.add', eta, expires: eta, group: 'g1', groupIndex: 0, timelimit: [null, 5] }), { queue: q });
    const env = JSON.parse((await raw.rpop(prefix + q))!);
    expect(env.headers).toMatchObject({ eta, expires: eta, group: 'g1', group_index: 0, timelimit: [null, 5] });
    expect(env.headers).not.toHaveProperty('shadow');
    expect(env.headers).not.toHaveProperty('parent_id');
  });

  it('refuses a compact_headers value that is not a boolean', () => {
    expect(() => brokerFor(DB, prefix, { transportOptions: { compact_headers: 'maybe' } })).toThrow(/compact_headers="maybe" must be true or false/);
  });

  it('encodes the body as base64 of the protocol v2 [args, kwargs, embed] JSON', async () => {
    const q = queueName();
    await send(q, ['héllo ✓', 2]);
    const env = JSON.parse((await raw.rpop(prefix + q))!);
    expect(JSON.parse(Buffer.from(env.body, 'base64').toString('utf8'))).toEqual([['héllo ✓', 2], {}, { callbacks: null, errbacks: null, chain: null, chord: null }]);
  });

  it("records kombu's binding member in _kombu.binding.<queue>", async () => {
    const q = queueName();
    await send(q);
    expect(await raw.smembers(`${prefix}_kombu.binding.${q}`)).toEqual([`${q}${SEP}${SEP}${q}`]);
  });

  it('puts each priority in its kombu band list and keeps the priority in the envelope', async () => {
    const q = queueName();
    for (const p of [0, 2, 3, 5, 6, 8, 9, 11]) await send(q, [p], p);
    const band = async (suffix: string) => (await raw.lrange(prefix + q + suffix, 0, -1)).map((t) => JSON.parse(t).properties.priority).sort((a, b) => a - b);
    expect(await band('')).toEqual([0, 2]);
    expect(await band(`${SEP}3`)).toEqual([3, 5]);
    expect(await band(`${SEP}6`)).toEqual([6, 8]);
    expect(await band(`${SEP}9`)).toEqual([9, 11]);
    expect(kombu.priorityStep(11)).toBe(9);
  });
});

describe('fetch and ack', () => {
  it('records a fetched message in unacked and unacked_index, exactly as kombu does', async () => {
    const q = queueName();
    await send(q);
    const [published] = await raw.lrange(prefix + q, 0, -1);
    const before = Date.now() / 1000;
    const [d] = await take([q], 1);
    expect(await raw.llen(prefix + q)).toBe(0);
    const tag = JSON.parse(published!).properties.delivery_tag;
    const entry = await raw.hget(`${prefix}unacked`, tag);
    expect(entry).toBe(`[${published},"","${q}"]`);
    expect(JSON.parse(entry!)).toHaveLength(celeryUnacked.value.length);
    const score = Number(await raw.zscore(`${prefix}unacked_index`, tag));
    expect(score).toBeGreaterThanOrEqual(Math.floor(before));
    await d!.ack();
    expect(await raw.hexists(`${prefix}unacked`, tag)).toBe(0);
    expect(await raw.zscore(`${prefix}unacked_index`, tag)).toBeNull();
  });

  it('keeps every fetched but unacknowledged message in unacked', async () => {
    const q = queueName();
    for (let i = 0; i < 5; i++) await send(q, [i]);
    const got = await take([q], 5);
    const tags = await raw.hkeys(`${prefix}unacked`);
    for (const d of got) expect(tags).toContain((d as RedisDelivery).deliveryTag);
    await Promise.all(got.map((d) => d.ack()));
  });

  it('acks of one turn share a write: each resolves only once its entry is gone, also past one chunk (500)', async () => {
    const q = queueName();
    const n = 620;
    await broker.publishMany(Array.from({ length: n }, (_, i) => ({ message: buildTaskMessage({ task: 'interop.add', args: [i] }), route: { queue: q } })));
    const got = await take([q], n);
    expect(await raw.hlen(`${prefix}unacked`)).toBeGreaterThanOrEqual(n);
    const tags = got.map((d) => (d as RedisDelivery).deliveryTag);
    // Ack all in one turn; the first ack resolving means its group (the whole turn) was written.
    const acks = got.map((d) => d.ack());
    await acks[0];
    expect(await raw.hmget(`${prefix}unacked`, ...tags)).toEqual(tags.map(() => null));
    await Promise.all(acks);
    expect(await raw.zscore(`${prefix}unacked_index`, tags[n - 1]!)).toBeNull();
    // Acking again is a no-op that resolves at once.
    await expect(got[0]!.ack()).resolves.toBeUndefined();
  });

  it('delivers an envelope written by Python Celery with its headers intact', async () => {
    const q = queueName();
    await raw.lpush(prefix + q, JSON.stringify({ ...celeryEnvelope, properties: { ...celeryEnvelope.properties, delivery_info: { exchange: '', routing_key: q } } }));
    const [d] = await take([q], 1);
    expect(d!.message.headers).toMatchObject(celeryEnvelope.headers);
    expect(d!.message.body[0]).toEqual([2, 3]);
    expect(d!.redelivered).toBe(false);
    await d!.ack();
  });

  // The fetch script reads the tag and routing of a well-formed envelope without decoding it; these
  // check it records the same unacked entry as a full decode would, and falls back when in doubt.
  it.each([
    ['kombu (Python json.dumps spacing)', (env: object) => JSON.stringify(env).replaceAll('":', '": ').replaceAll(',"', ', "')],
    ['compact (taskq)', (env: object) => JSON.stringify(env)],
    ['pretty-printed (full decode)', (env: object) => JSON.stringify(env, null, 2)],
  ])('records the delivery tag and routing of a %s envelope in unacked', async (_name, encode) => {
    const q = queueName();
    const tag = `tag-${q}`;
    const text = encode({ ...celeryEnvelope, properties: { ...celeryEnvelope.properties, delivery_info: { exchange: 'celery', routing_key: q }, delivery_tag: tag } });
    await raw.lpush(prefix + q, text);
    const [d] = await take([q], 1);
    expect((d as RedisDelivery).deliveryTag).toBe(tag);
    expect(await raw.hget(`${prefix}unacked`, tag)).toBe(`[${text},"celery","${q}"]`);
    await d!.ack();
  });

  it('decodes an escaped tag or routing key (as Python writes non-ASCII) instead of taking it literally', async () => {
    const q = `${queueName()}-café`;
    const tag = `tag-"quoted"-${q}`;
    // Python's json.dumps writes "café" as "caf\u00e9" and escapes the quotes of the tag.
    const text = JSON.stringify({ ...celeryEnvelope, properties: { ...celeryEnvelope.properties, delivery_info: { exchange: '', routing_key: q }, delivery_tag: tag } }).replaceAll('é', '\\u00e9');
    expect(text).toContain('caf\\u00e9');
    await raw.lpush(prefix + q, text);
    const [d] = await take([q], 1);
    expect((d as RedisDelivery).deliveryTag).toBe(tag);
    expect(JSON.parse((await raw.hget(`${prefix}unacked`, tag))!).slice(1)).toEqual(['', q]);
    await d!.ack();
  });

  it('uses properties.delivery_tag when a header of the same name makes the quick read ambiguous', async () => {
    const q = queueName();
    const text = JSON.stringify({
      ...celeryEnvelope,
      headers: { ...celeryEnvelope.headers, delivery_tag: 'from-a-header', delivery_info: { exchange: 'x', routing_key: 'y' } },
      properties: { ...celeryEnvelope.properties, delivery_info: { exchange: '', routing_key: q }, delivery_tag: `real-${q}` },
    });
    await raw.lpush(prefix + q, text);
    const [d] = await take([q], 1);
    expect((d as RedisDelivery).deliveryTag).toBe(`real-${q}`);
    expect(await raw.hget(`${prefix}unacked`, `real-${q}`)).toBe(`[${text},"","${q}"]`);
    await d!.ack();
  });

  it('takes band 0 of every queue before any band 3 (lower number first, as kombu)', async () => {
    const [qa, qb] = [queueName(), queueName()];
    await send(qa, ['a3'], 3);
    await send(qb, ['b9'], 9);
    await send(qa, ['a0'], 0);
    await send(qb, ['b0'], 0);
    const got = await take([qa, qb], 4);
    const order = got.map((d) => d.message.body[0][0]);
    expect(order.slice(0, 2).sort()).toEqual(['a0', 'b0']);
    expect(order.slice(2)).toEqual(['a3', 'b9']);
    await Promise.all(got.map((d) => d.ack()));
  });

  it('fills one fetch of a single queue band by band, oldest first, and records each taken message as unacked', async () => {
    const q = queueName();
    for (const [name, priority] of [['p3-1', 3], ['p0-1', 0], ['p3-2', 3], ['p0-2', 0], ['p3-3', 3], ['p6-1', 6]] as const) await send(q, [name], priority);
    // One script call for 4: all of band 0 (2), then the two oldest of band 3; band 6 is not reached.
    const got = await broker.fetch([q], 4);
    const names = got.map((e) => (e.kind === 'message' ? JSON.parse(Buffer.from(JSON.parse(e.envelope).body, 'base64').toString())[0][0] : e.kind));
    expect(names).toEqual(['p0-1', 'p0-2', 'p3-1', 'p3-2']);
    const tags = got.map((e) => (e.kind === 'message' ? e.deliveryTag : ''));
    for (const tag of tags) {
      expect(await raw.hexists(`${prefix}unacked`, tag)).toBe(1);
      expect(await raw.zscore(`${prefix}unacked_index`, tag)).not.toBeNull();
    }
    expect(await raw.llen(`${prefix}${q}${SEP}3`)).toBe(1);
    expect(await raw.llen(`${prefix}${q}${SEP}6`)).toBe(1);
    await Promise.all(tags.map((tag) => broker.ack(tag)));
    for (const tag of tags) expect(await raw.hexists(`${prefix}unacked`, tag)).toBe(0);
  });

  it('takes nothing when a fetch fails half-way: what it popped goes back, in order, and the error reaches the caller', async () => {
    // Two queues taking turns, and a single queue popped band by band: the second key read is not a list.
    const [qa, qb, qc] = [queueName(), queueName(), queueName()];
    await send(qa, ['a1']);
    await send(qa, ['a2']);
    await raw.set(prefix + qb, 'not a list');
    await send(qc, ['c1']);
    await send(qc, ['c2']);
    await raw.set(`${prefix}${qc}${SEP}3`, 'not a list');
    const before = await raw.hlen(`${prefix}unacked`);
    await expect(broker.fetch([qa, qb], 10)).rejects.toThrow(/WRONGTYPE/);
    await expect(broker.fetch([qc], 10)).rejects.toThrow(/WRONGTYPE/);
    const names = async (key: string) => (await raw.lrange(key, 0, -1)).map((t) => JSON.parse(Buffer.from(JSON.parse(t).body, 'base64').toString())[0][0]);
    expect(await names(prefix + qa)).toEqual(['a2', 'a1']);
    expect(await names(prefix + qc)).toEqual(['c2', 'c1']);
    expect(await raw.hlen(`${prefix}unacked`)).toBe(before);
    await raw.del(prefix + qb, `${prefix}${qc}${SEP}3`);
    // Once the keys are lists again, the messages come out oldest first.
    const got = await broker.fetch([qa], 10);
    expect(got.map((e) => (e.kind === 'message' ? JSON.parse(Buffer.from(JSON.parse(e.envelope).body, 'base64').toString())[0][0] : e.kind))).toEqual(['a1', 'a2']);
    await Promise.all(got.map((e) => (e.kind === 'message' ? broker.ack(e.deliveryTag) : undefined)));
  });

  it("takes the same messages in the same order on a server that refuses RPOP's count (before Redis 6.2)", async () => {
    const run = async (script: string): Promise<unknown[]> => {
      const q = queueName();
      for (const [name, priority] of [['p3-1', 3], ['p0-1', 0], ['p0-2', 0], ['p3-2', 3]] as const) await send(q, [name], priority);
      const l = broker.layout;
      const keys = [l.unacked, l.unackedIndex, l.deadLetter, ...l.bandKeys(q)];
      const flat = (await raw.eval(script, keys.length, ...keys, '3', String(Date.now() / 1000), '1', q)) as unknown[];
      const taken: unknown[] = [];
      for (let i = 0; i < flat.length; i += 3) {
        expect(flat[i]).toBe(1);
        expect(await raw.hexists(l.unacked, flat[i + 1] as string)).toBe(1);
        taken.push(JSON.parse(Buffer.from(JSON.parse(flat[i + 2] as string).body, 'base64').toString())[0][0]);
        await broker.ack(flat[i + 1] as string);
      }
      return taken;
    };
    // An older server answers RPOP with a count by an error: made here by an extra argument, which Redis 7 refuses the same way.
    const old = FETCH_LUA.replace("redis.pcall('RPOP', key, max - taken)", "redis.pcall('RPOP', key, max - taken, 'no-count')");
    expect(old).not.toBe(FETCH_LUA);
    expect(await run(FETCH_LUA)).toEqual(['p0-1', 'p0-2', 'p3-1']);
    expect(await run(old)).toEqual(['p0-1', 'p0-2', 'p3-1']);
  });
});
