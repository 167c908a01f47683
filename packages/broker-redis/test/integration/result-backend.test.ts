/** The result backend writes and reads exactly what Celery's Redis backend does (celery-protocol.md §4.1). */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ResultMeta } from '@taskq/core';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisResultBackend, type RedisResultBackend } from '../../src/index.js';
import { rawClient, silent, urlFor } from './helpers.js';

const DB = 14;
const pythonSuccess = JSON.parse(readFileSync(new URL('../fixtures/result-redis-success.json', import.meta.url), 'utf8'));
let raw: Redis;
let backend: RedisResultBackend;
const ids: string[] = [];
const newId = (): string => {
  const id = randomUUID();
  ids.push(id);
  return id;
};
const meta = (id: string, status: ResultMeta['status'], result: unknown): ResultMeta => ({ status, result, traceback: null, children: [], date_done: '2026-11-25T06:11:24.990560', task_id: id });

beforeAll(async () => {
  raw = await rawClient(DB);
  backend = createRedisResultBackend({ url: urlFor(DB), resultExpires: 3600, log: silent });
  await backend.connect();
});
afterAll(async () => {
  await backend.close();
  if (ids.length > 0) await raw.del(...ids.map((id) => `celery-task-meta-${id}`));
  raw.disconnect();
});

describe('redis result backend', () => {
  it("stores Celery's meta JSON at celery-task-meta-<id> with the resultExpires TTL", async () => {
    const id = newId();
    await backend.store(id, meta(id, 'SUCCESS', 5));
    const text = await raw.get(`celery-task-meta-${id}`);
    expect(JSON.parse(text!)).toEqual(meta(id, 'SUCCESS', 5));
    expect(Object.keys(JSON.parse(text!))).toEqual(Object.keys(pythonSuccess));
    const ttl = await raw.ttl(`celery-task-meta-${id}`);
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
  });

  it('never overwrites a stored SUCCESS (Celery\'s rule), also when both writes go in one batch', async () => {
    const [earlier, same] = [newId(), newId()];
    await backend.store(earlier, meta(earlier, 'SUCCESS', 1));
    await backend.store(earlier, meta(earlier, 'FAILURE', null));
    expect(JSON.parse((await raw.get(`celery-task-meta-${earlier}`))!).status).toBe('SUCCESS');
    // Stores of one turn share one script call: the second sees the first.
    await Promise.all([backend.store(same, meta(same, 'SUCCESS', 2)), backend.store(same, meta(same, 'FAILURE', null))]);
    expect(JSON.parse((await raw.get(`celery-task-meta-${same}`))!)).toMatchObject({ status: 'SUCCESS', result: 2 });
    // Anything else is overwritten: a RETRY, then the SUCCESS after it.
    const retried = newId();
    await Promise.all([backend.store(retried, meta(retried, 'RETRY', null)), backend.store(retried, meta(retried, 'SUCCESS', 3))]);
    expect(JSON.parse((await raw.get(`celery-task-meta-${retried}`))!)).toMatchObject({ status: 'SUCCESS', result: 3 });
  });

  it('publishes the same JSON on the key name when storing', async () => {
    const id = newId();
    const sub = raw.duplicate();
    const received = new Promise<string>((resolve) => sub.on('message', (_channel: string, text: string) => resolve(text)));
    await sub.subscribe(`celery-task-meta-${id}`);
    await backend.store(id, meta(id, 'SUCCESS', 'x'));
    expect(await received).toBe(await raw.get(`celery-task-meta-${id}`));
    sub.disconnect();
  });

  it('reads a result stored by Python Celery', async () => {
    const id = newId();
    await raw.set(`celery-task-meta-${id}`, JSON.stringify({ ...pythonSuccess, task_id: id }));
    expect(await backend.get(id)).toEqual({ ...pythonSuccess, task_id: id });
    expect((await backend.wait(id, { timeoutMs: 1000 })).result).toBe(5);
  });

  it('serves many waiters on one subscriber connection', async () => {
    const waiterIds = Array.from({ length: 50 }, newId);
    const waiting = Promise.all(waiterIds.map((id) => backend.wait(id, { timeoutMs: 5000 })));
    const other = createRedisResultBackend({ url: urlFor(DB), log: silent });
    await Promise.all(waiterIds.map((id) => other.store(id, meta(id, 'SUCCESS', id))));
    expect((await waiting).map((m) => m.result)).toEqual(waiterIds);
    await other.close();
    const list = (await raw.client('LIST')) as string;
    expect(list.split('\n').filter((l) => / sub=[1-9]/.test(l) && l.includes('db=14')).length).toBeLessThanOrEqual(2);
  });

  it('stops waiting when the signal aborts', async () => {
    const id = newId();
    const controller = new AbortController();
    const waiting = backend.wait(id, { timeoutMs: 10_000, signal: controller.signal });
    controller.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
  });
});
