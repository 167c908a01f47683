/**
 * Visibility timeout: deliveries of a dead consumer go back to their queue
 * marked redelivered (kombu's restore); deliveries a live consumer still
 * holds — e.g. an eta task waiting for its time — do not.
 */
import { readFileSync } from 'node:fs';
import { buildTaskMessage, type Delivery } from '@taskq/core';
import { until } from '@taskq/core/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisBroker } from '../../src/index.js';
import { brokerFor, deletePrefix, freshPrefix, rawClient } from './helpers.js';

const DB = 11;
const VISIBILITY_TIMEOUT_S = 0.4;
const celeryUnacked = JSON.parse(readFileSync(new URL('../fixtures/redis-unacked-entry.json', import.meta.url), 'utf8'));

const prefix = freshPrefix('restore');
let raw: Redis;
const brokers: RedisBroker[] = [];
let n = 0;
const queueName = (): string => `restore-q${++n}`;

async function broker(): Promise<RedisBroker> {
  const b = brokerFor(DB, prefix, { transportOptions: { visibility_timeout: VISIBILITY_TIMEOUT_S } });
  brokers.push(b);
  await b.connect();
  return b;
}

/** Plant an unacked entry the way a crashed Celery worker leaves it (fixture envelope, old score). */
async function plantCrashedDelivery(queue: string, ageSeconds: number): Promise<string> {
  const [envelope] = celeryUnacked.value;
  const tag = celeryUnacked.delivery_tag + queue;
  const env = { ...envelope, properties: { ...envelope.properties, delivery_tag: tag, delivery_info: { exchange: '', routing_key: queue } } };
  await raw.hset(`${prefix}unacked`, tag, JSON.stringify([env, '', queue]));
  await raw.zadd(`${prefix}unacked_index`, Date.now() / 1000 - ageSeconds, tag);
  return tag;
}

beforeAll(async () => {
  raw = await rawClient(DB);
});
afterAll(async () => {
  for (const b of brokers) await b.close();
  await deletePrefix(raw, prefix);
  raw.disconnect();
});

describe('restore after the visibility timeout', () => {
  it('moves a dead consumer’s delivery back to its queue with the redelivered flags, and clears unacked', async () => {
    const b = await broker();
    const q = queueName();
    const tag = await plantCrashedDelivery(q, 10);
    expect(await b.restoreVisibilityTimeouts()).toBe(1);
    expect(await raw.hexists(`${prefix}unacked`, tag)).toBe(0);
    expect(await raw.zscore(`${prefix}unacked_index`, tag)).toBeNull();
    const env = JSON.parse((await raw.lindex(prefix + q, 0))!);
    expect(env.headers.redelivered).toBe(true);
    expect(env.properties.delivery_info.redelivered).toBe(true);
    expect(env.headers.id).toBe(celeryUnacked.value[0].headers.id);
  });

  it('hands the restored message to the next consumer as redelivered', async () => {
    const b = await broker();
    const q = queueName();
    await plantCrashedDelivery(q, 10);
    const got: Delivery[] = [];
    const c = await b.consume([q], (d) => got.push(d), { prefetch: 1 });
    await until(() => got.length === 1, 5000, 'the restored delivery');
    expect(got[0]!.redelivered).toBe(true);
    await got[0]!.ack();
    await c.close();
  });

  it('leaves entries younger than the visibility timeout alone', async () => {
    const b = await broker();
    const q = queueName();
    const tag = await plantCrashedDelivery(q, 0);
    expect(await b.restoreVisibilityTimeouts()).toBe(0);
    expect(await raw.hexists(`${prefix}unacked`, tag)).toBe(1);
    await raw.hdel(`${prefix}unacked`, tag);
    await raw.zrem(`${prefix}unacked_index`, tag);
  });

  it('does nothing while another process holds unacked_mutex', async () => {
    const b = await broker();
    const q = queueName();
    const tag = await plantCrashedDelivery(q, 10);
    await raw.set(`${prefix}unacked_mutex`, 'someone-else', 'PX', 10_000);
    expect(await b.restoreVisibilityTimeouts()).toBe(0);
    expect(await raw.hexists(`${prefix}unacked`, tag)).toBe(1);
    expect(await raw.get(`${prefix}unacked_mutex`)).toBe('someone-else');
    await raw.del(`${prefix}unacked_mutex`);
    expect(await b.restoreVisibilityTimeouts()).toBe(1);
  });

  it('never restores a delivery its live consumer still holds, however long (no eta double execution)', async () => {
    const holder = await broker();
    const other = await broker();
    const q = queueName();
    await holder.publish(buildTaskMessage({ task: 'eta.task', args: [] }), { queue: q });
    const held: Delivery[] = [];
    const c = await holder.consume([q], (d) => held.push(d), { prefetch: 1 });
    await until(() => held.length === 1, 5000, 'the delivery');
    const entries = await raw.hgetall(`${prefix}unacked`);
    const tag = Object.keys(entries).find((t) => entries[t]!.includes(held[0]!.message.headers.id))!;
    // Hold it for several visibility timeouts while another broker keeps trying to restore.
    const until4Timeouts = Date.now() + VISIBILITY_TIMEOUT_S * 1000 * 4;
    while (Date.now() < until4Timeouts) {
      await other.restoreVisibilityTimeouts();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await raw.hexists(`${prefix}unacked`, tag)).toBe(1);
    expect(await raw.llen(prefix + q)).toBe(0);
    await held[0]!.ack();
    await c.close();
  });

  it('restores the deliveries of a consumer that died without closing', async () => {
    const doomed = brokerFor(DB, prefix, { transportOptions: { visibility_timeout: VISIBILITY_TIMEOUT_S } });
    await doomed.connect();
    const q = queueName();
    await doomed.publish(buildTaskMessage({ task: 'crash.task', args: [] }), { queue: q });
    const held: Delivery[] = [];
    await doomed.consume([q], (d) => held.push(d), { prefetch: 1 });
    await until(() => held.length === 1, 5000, 'the delivery');
    doomed.destroy(); // like SIGKILL: connections gone, nothing given back
    const survivor = await broker();
    const got: Delivery[] = [];
    const c = await survivor.consume([q], (d) => got.push(d), { prefetch: 1 });
    await until(() => got.length === 1, 10_000, 'the restored delivery');
    expect(got[0]!.message.headers.id).toBe(held[0]!.message.headers.id);
    expect(got[0]!.redelivered).toBe(true);
    await got[0]!.ack();
    await c.close();
  });
});
