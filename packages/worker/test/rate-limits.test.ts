/** Per-task rate limits: a token bucket per task name on each worker; limited tasks wait aside and hold nothing up. */
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../src/rate-limiter.js';
import { createHarness, until } from './helpers/harness.js';

describe('RateLimiter', () => {
  it('admits one task at once, then one per 1/rate seconds, reserving later slots in order', () => {
    let now = 0;
    const h = createHarness();
    h.app.task('limited', () => {}, { rateLimit: '10/s' });
    const limiter = new RateLimiter(h.app, () => now);
    expect(limiter.acquire('limited')).toBe(0);
    expect(limiter.acquire('limited')).toBe(100);
    expect(limiter.acquire('limited')).toBe(200);
    now = 1000;
    expect(limiter.acquire('limited')).toBe(0);
  });

  it('lets tasks without a limit through and follows run-time changes', () => {
    const h = createHarness();
    h.app.task('free', () => {});
    const limiter = new RateLimiter(h.app, () => 0);
    expect(limiter.acquire('free')).toBe(0);
    expect(limiter.acquire('free')).toBe(0);
    limiter.set('free', '1/m');
    expect(limiter.acquire('free')).toBe(0);
    expect(limiter.acquire('free')).toBe(60_000);
    limiter.set('free', null);
    expect(limiter.acquire('free')).toBe(0);
  });
});

describe('Rate-limited tasks in the worker', () => {
  it('starts no more than the rate allows within a window (10/s → at most 11 starts in 1 s)', async () => {
    const h = createHarness();
    const starts: number[] = [];
    h.app.task('tick', () => void starts.push(performance.now()), { rateLimit: '10/s' });
    await h.startWorker({ concurrency: 20 });
    for (let i = 0; i < 25; i++) await h.app.sendTask('tick');
    await until(() => starts.length >= 15, 10_000, '15 starts');
    for (const first of starts) {
      const inWindow = starts.filter((t) => t >= first && t < first + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(11);
    }
  });

  it('holds rate-limited tasks aside without holding up other tasks', async () => {
    const h = createHarness();
    let ticks = 0;
    h.app.task('slow-rate', () => void ticks++, { rateLimit: '1/m' });
    h.app.task('other', () => 'done');
    // A window of 8: the four waiting for a token leave room for the other task.
    const worker = await h.startWorker({ concurrency: 2, prefetchMultiplier: 4 });
    for (let i = 0; i < 5; i++) await h.app.sendTask('slow-rate');
    const other = await h.app.sendTask('other');
    expect((await h.result(other.id)).status).toBe('SUCCESS');
    expect(ticks).toBe(1);
    expect(worker.stats().scheduled).toBe(4);
  });

  it('keeps a backlog of a rate-limited task in the queue: held tasks fill the prefetch window, which does not grow', async () => {
    const h = createHarness();
    let ticks = 0;
    h.app.task('backlog', () => void ticks++, { rateLimit: '1/m' });
    for (let i = 0; i < 50; i++) await h.app.sendTask('backlog');
    const worker = await h.startWorker({ concurrency: 4, prefetchMultiplier: 1 });
    // One ran (and was acked); the next four wait for their token in the window of 4.
    await until(() => ticks === 1 && worker.stats().scheduled >= 4, 10_000, 'one run and four held');
    const broker = await h.app.getBroker();
    // Give the broker its chances to hand over more if the prefetch had grown.
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    const stats = worker.stats();
    expect(stats.scheduled + stats.reserved).toBeLessThanOrEqual(4);
    expect(await broker.queueSize('celery')).toBe(45);
  });

  it('applies worker.setRateLimit() to a task at run time', async () => {
    const h = createHarness();
    let runs = 0;
    h.app.task('tunable', () => void runs++);
    const worker = await h.startWorker();
    worker.setRateLimit('tunable', '1/h');
    for (let i = 0; i < 3; i++) await h.app.sendTask('tunable');
    await until(() => runs === 1 && worker.stats().scheduled === 2, 10_000, 'runs === 1 && worker.stats().scheduled === 2');
    expect(() => worker.setRateLimit('tunable', 'fast')).toThrow(/not a rate/);
  });
});
