/**
 * Worker limits on Redis, through the public API: a rate limit holds within
 * tolerance without holding up other tasks, and `app.control.terminate`
 * (a broadcast over Redis PUB/SUB, as Celery's) stops a running task in the
 * async pool (its signal) and in the process pool (the child is killed and
 * replaced). Redis db 4, unique queues, keys deleted after.
 */
import { fileURLToPath } from 'node:url';
import { type App, createApp, createLogger } from '@taskq/core';
import { until } from '@taskq/core/testing';
import { Worker } from '@taskq/worker';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uniqueQueue } from '../src/transports.js';

const URL_ = `${process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'}/4`;
const LIMITS_APP = fileURLToPath(new URL('../fixtures/limits-app.ts', import.meta.url));

describe('worker limits on Redis', () => {
  let app: App;
  let redis: Redis;
  const workers: Worker[] = [];
  const ids: string[] = [];
  const queues: string[] = [];

  beforeAll(async () => {
    process.env.TASKQ_BROKER_URL = URL_;
    process.env.TASKQ_RESULT_BACKEND = URL_;
    app = (await import('../fixtures/limits-app.js')).app;
    redis = new Redis(URL_);
    await redis.ping();
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop({ cold: true })));
  });
  afterAll(async () => {
    const keys = [...queues, ...queues.map((q) => `_kombu.binding.${q}`), ...ids.map((id) => `celery-task-meta-${id}`)];
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await app.close();
  });

  async function start(options: ConstructorParameters<typeof Worker>[1] & { queues: string[] }): Promise<Worker> {
    queues.push(...options.queues);
    const worker = new Worker(app, { logger: createLogger('silent'), ...options });
    workers.push(worker);
    await worker.start();
    return worker;
  }

  it('starts no more rate-limited tasks than the rate allows (10/s → at most 11 in any 1 s), and other tasks pass them', async () => {
    const local = createApp({ name: 'limits-rate', brokerUrl: URL_, resultBackend: URL_, logger: createLogger('silent'), env: {} });
    const starts: number[] = [];
    local.task('limits.tick', () => void starts.push(performance.now()), { rateLimit: '10/s' });
    local.task('limits.other', () => 'done');
    const queue = uniqueQueue('rate');
    queues.push(queue);
    const worker = new Worker(local, { queues: [queue], concurrency: 20, logger: createLogger('silent') });
    await worker.start();
    try {
      for (let i = 0; i < 25; i++) ids.push((await local.sendTask('limits.tick', [], {}, { queue })).id);
      const other = await local.sendTask('limits.other', [], {}, { queue });
      ids.push(other.id);
      expect(await other.get({ timeout: 5000 })).toBe('done');
      expect(starts.length).toBeLessThan(25);
      await until(() => starts.length >= 15, 10_000, '15 starts');
      for (const first of starts) expect(starts.filter((t) => t >= first && t < first + 1000).length).toBeLessThanOrEqual(11);
    } finally {
      await worker.stop({ cold: true });
      await local.close();
    }
  });

  it('terminates a running task in the async pool through app.control.terminate (REVOKED terminated)', async () => {
    const queue = uniqueQueue('terminate-async');
    const worker = await start({ queues: [queue] });
    const r = await app.sendTask('limits.patient', [], {}, { queue });
    ids.push(r.id);
    await until(() => worker.stats().active === 1, 10_000, 'the task to run');
    await app.control.terminate(r.id, { timeout: 1 });
    await expect(r.get({ timeout: 10_000 })).rejects.toMatchObject({ reason: 'terminated' });
    expect(await r.state).toBe('REVOKED');
  });

  it('kills and replaces the child of a running task in the process pool through app.control.terminate', async () => {
    const queue = uniqueQueue('terminate-process');
    const worker = await start({ queues: [queue], pool: 'process', concurrency: 1, appModule: LIMITS_APP });
    const r = await app.sendTask('limits.spin', [], {}, { queue });
    ids.push(r.id);
    await until(() => worker.stats().active === 1, 20_000, 'the task to run');
    await app.control.terminate(r.id, { timeout: 1 });
    await expect(r.get({ timeout: 20_000 })).rejects.toMatchObject({ reason: 'terminated' });
    // The pool serves on with a new child.
    const after = await app.sendTask('limits.add', [2, 3], {}, { queue });
    ids.push(after.id);
    expect(await after.get({ timeout: 20_000 })).toBe(5);
  });
});
