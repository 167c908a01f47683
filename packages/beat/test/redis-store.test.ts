/** The Redis store and lock on a real Redis (db 10, a random key prefix per test; fails loudly without Redis). */
import { randomUUID } from 'node:crypto';
import { ConfigError } from '@taskq/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBeatState, type RedisBeatState } from '../src/redis.js';

const REDIS_URL = process.env.REDIS_URL_BEAT ?? 'redis://127.0.0.1:6379/10';

describe('the Redis schedule store and leader lock', () => {
  let redis: Redis;
  const states: RedisBeatState[] = [];
  const prefixes: string[] = [];

  /** Two beats' state on one fresh prefix. */
  function pair(lockTtl = 30): [RedisBeatState, RedisBeatState] {
    const prefix = `taskq-beat-test-${randomUUID()}`;
    prefixes.push(prefix);
    const made = [createRedisBeatState({ url: REDIS_URL, prefix, lockTtl }), createRedisBeatState({ url: REDIS_URL, prefix, lockTtl })] as const;
    states.push(...made);
    return [made[0], made[1]];
  }

  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    await redis.ping(); // no Redis: this test file fails here, it does not skip
  });
  afterAll(async () => {
    await Promise.all(states.map((s) => s.store.close()));
    for (const prefix of prefixes) {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
    }
    await redis.quit();
  });

  it('gives the lock to one process at a time; the holder renews it', async () => {
    const [a, b] = pair();
    expect(await a.lock.acquire()).toBe(true);
    expect(await b.lock.acquire()).toBe(false);
    expect(await a.lock.acquire()).toBe(true);
  });

  it('lets another process take the lock at once when the holder releases it', async () => {
    const [a, b] = pair();
    await a.lock.acquire();
    await a.lock.release();
    expect(await b.lock.acquire()).toBe(true);
  });

  it('lets another process take the lock when the holder stops renewing it (TTL)', async () => {
    const [a, b] = pair(0.2);
    await a.lock.acquire();
    const deadline = Date.now() + 5000;
    let taken = false;
    while (!taken && Date.now() < deadline) taken = await b.lock.acquire();
    expect(taken).toBe(true);
    expect(await a.lock.acquire()).toBe(false);
  });

  it('claims a tick once: the leader claims, and records it as the last run', async () => {
    const [a] = pair();
    await a.store.open();
    await a.lock.acquire();
    expect(await a.store.claim('hb', 10_000)).toBe(true);
    expect(await a.store.claim('hb', 10_000)).toBe(false);
    expect(await a.store.lastRuns(['hb'])).toEqual(new Map([['hb', 10_000]]));
  });

  it('refuses a claim from a process that does not hold the lock (a stale leader)', async () => {
    const [a, b] = pair();
    await Promise.all([a.store.open(), b.store.open()]);
    await a.lock.acquire();
    expect(await b.store.claim('hb', 10_000)).toBe(false);
    expect(await a.store.claim('hb', 10_000)).toBe(true);
  });

  it('refuses a tick older than the recorded last run', async () => {
    const [a] = pair();
    await a.store.open();
    await a.lock.acquire();
    await a.store.claim('hb', 20_000);
    expect(await a.store.claim('hb', 10_000)).toBe(false);
  });

  it('keeps the first initialize of an entry', async () => {
    const [a, b] = pair();
    await Promise.all([a.store.open(), b.store.open()]);
    expect(await a.store.initialize('hb', 1000)).toBe(1000);
    expect(await b.store.initialize('hb', 2000)).toBe(1000);
  });

  it('refuses a non-Redis URL with a ConfigError', () => {
    expect(() => createRedisBeatState({ url: 'amqp://guest:guest@localhost//' })).toThrow(ConfigError);
  });
});
