/** Groups and chord counters in Redis, key for key as Celery's Redis backend keeps them. */
import { randomUUID } from 'node:crypto';
import { type Consumer, chord, createApp, GroupResult, group, traceTask } from '@taskq/core';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisResultBackend, type RedisResultBackend } from '../../src/index.js';
import { encodeChordPart } from '../../src/redis-chord.js';
import { rawClient, silent, urlFor } from './helpers.js';

const DB = 8;
let client: Redis;
let backend: RedisResultBackend;

beforeAll(async () => {
  client = await rawClient(DB);
  backend = createRedisResultBackend({ url: urlFor(DB), log: silent });
  await backend.connect();
});

afterAll(async () => {
  await backend.close();
  client.disconnect();
});

const key = (gid: string, suffix = '') => `celery-taskset-meta-${gid}${suffix}`;

describe('chord counters (celery-taskset-meta-<gid>.s / .j / .t)', () => {
  it('writes the size and each part as Celery does (fixture result-redis-chord-counters)', async () => {
    const gid = randomUUID();
    await backend.setChordSize(gid, 3);
    expect(await client.get(key(gid, '.s'))).toBe('3');
    expect(await client.ttl(key(gid, '.s'))).toBeGreaterThan(86_000);
    await backend.onChordPartReturn({ groupId: gid, taskId: '23a4041a-4965-4c81-a0d6-da23c61aaca7', groupIndex: 0, state: 'SUCCESS', result: 6 });
    expect(await client.zrange(key(gid, '.j'), 0, -1, 'WITHSCORES')).toEqual(['[1, "23a4041a-4965-4c81-a0d6-da23c61aaca7", "SUCCESS", 6]', '0']);
    await client.del(key(gid, '.s'), key(gid, '.j'));
  });

  it('completes once, on the last part, with the parts in group_index order, and deletes the keys', async () => {
    const gid = randomUUID();
    await backend.setChordSize(gid, 3);
    const part = (i: number) => ({ groupId: gid, taskId: `t${i}`, groupIndex: i, state: 'SUCCESS' as const, result: i * 10 });
    expect(await backend.onChordPartReturn(part(2))).toEqual({ complete: false });
    expect(await backend.onChordPartReturn(part(0))).toEqual({ complete: false });
    const done = await backend.onChordPartReturn(part(1));
    expect(done).toEqual({
      complete: true,
      parts: [0, 1, 2].map((i) => ({ taskId: `t${i}`, state: 'SUCCESS', result: i * 10 })),
    });
    expect(await client.exists(key(gid, '.j'), key(gid, '.s'), key(gid, '.t'))).toBe(0);
  });

  it('counts a redelivered part once', async () => {
    const gid = randomUUID();
    await backend.setChordSize(gid, 2);
    const part = { groupId: gid, taskId: 'same', groupIndex: 0, state: 'SUCCESS' as const, result: 1 };
    await backend.onChordPartReturn(part);
    expect(await backend.onChordPartReturn(part)).toEqual({ complete: false });
    await client.del(key(gid, '.s'), key(gid, '.j'));
  });

  it('honours .t, the size added to a running chord', async () => {
    const gid = randomUUID();
    await backend.setChordSize(gid, 1);
    await client.set(key(gid, '.t'), '1');
    const part = (i: number) => ({ groupId: gid, taskId: `t${i}`, groupIndex: i, state: 'SUCCESS' as const, result: i });
    expect(await backend.onChordPartReturn(part(0))).toEqual({ complete: false });
    expect((await backend.onChordPartReturn(part(1))).complete).toBe(true);
  });

  it('encodes a failed part with its exception object', () => {
    const exc = { exc_type: 'ValueError', exc_message: ['boom'], exc_module: 'builtins' };
    expect(encodeChordPart({ groupId: 'g', taskId: 'x', groupIndex: 1, state: 'FAILURE', result: exc })).toBe(
      '[1, "x", "FAILURE", {"exc_type":"ValueError","exc_message":["boom"],"exc_module":"builtins"}]',
    );
  });
});

describe('a chord through the Redis backend', () => {
  /** A sender on memory:// with its results in Redis; messages are run with traceTask as a worker would. */
  function setup() {
    const app = createApp({ brokerUrl: `memory://chord-${randomUUID()}`, backend, logger: silent, env: {} });
    const add = app.task('t.add', (a: number, b: number) => a + b);
    const sum = app.task('t.sum', (xs: number[]) => xs.reduce((a, b) => a + b, 0));
    const fail = app.task('t.fail', (m: string): number => {
      throw new Error(m);
    });
    /** Run each queued message (and what they send) with traceTask, one at a time, as a worker would. */
    async function work(): Promise<Consumer> {
      const broker = await app.getBroker();
      let running = Promise.resolve();
      return broker.consume(
        ['celery'],
        (d) => {
          running = running.then(async () => {
            await traceTask(app, d.message, { hostname: 'test@chord' });
            await d.ack();
          });
        },
        { prefetch: 10 },
      );
    }
    return { app, add, sum, fail, work };
  }

  it('fires the callback with the header results', async () => {
    const { add, sum, work } = setup();
    const consumer = await work();
    const result = await chord([add.s(1, 2), add.s(3, 4), add.s(5, 6)], sum.s()).applyAsync();
    expect(await result.get({ timeout: 5000 })).toBe(21);
    await consumer.close();
  });

  it('fails the callback with ChordError when a member failed', async () => {
    const { add, sum, fail, work } = setup();
    const consumer = await work();
    const result = await chord([add.s(1, 2), fail.s('nope')], sum.s()).applyAsync();
    const meta = await backend.wait(result.id, { timeoutMs: 5000 });
    await consumer.close();
    expect(meta.status).toBe('FAILURE');
    expect(meta.result).toMatchObject({ exc_type: 'ChordError', exc_module: 'celery.exceptions' });
  });

  it('saves a group under celery-taskset-meta-<gid> as Celery does and restores it', async () => {
    const { app, add } = setup();
    const result = await group([add.s(1, 1), add.s(2, 2)]).applyAsync();
    await result.save();
    const stored = JSON.parse((await client.get(key(result.id))) as string);
    expect(stored).toEqual({ result: [[result.id, null], result.results.map((r) => [[r.id, null], null])] });
    expect(await client.ttl(key(result.id))).toBeGreaterThan(86_000);
    const again = await GroupResult.restore(app, result.id);
    expect(again?.results.map((r) => r.id)).toEqual(result.results.map((r) => r.id));
    await result.delete();
  });
});
