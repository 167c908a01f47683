/** Choosing a pool, Celery's pool names, -O fair, and autoscale. */
import { buildTaskMessage } from '@taskq/core';
import { describe, expect, it } from 'vitest';
import { AsyncPool, Autoscaler, resolveWorkerOptions } from '../src/index.js';
import { createHarness } from './helpers/harness.js';

describe('Pool options', () => {
  it('needs the app module for the threads and process pools, and says so', () => {
    const { app } = createHarness();
    expect(() => resolveWorkerOptions(app, { pool: 'threads' })).toThrow(/needs the app's module: pass appModule/);
    expect(() => resolveWorkerOptions(app, { pool: 'prefork' })).toThrow(/process pool/);
  });

  it("accepts Celery's pool names and maps them", () => {
    const { app } = createHarness();
    expect(resolveWorkerOptions(app, { pool: 'gevent' })).toMatchObject({ pool: 'async', poolAlias: 'gevent' });
    expect(resolveWorkerOptions(app, { pool: 'prefork', appModule: '/x/app.js' })).toMatchObject({ pool: 'process', poolAlias: 'prefork' });
    expect(() => resolveWorkerOptions(app, { pool: 'fibers' as never })).toThrow(/one of async, threads, process, solo/);
  });

  it('logs that a Celery pool name was mapped', async () => {
    const h = createHarness();
    await h.startWorker({ pool: 'eventlet' });
    expect(h.logs.some((l) => l.msg === "pool eventlet is Celery's name: taskq runs its async pool")).toBe(true);
  });

  it('runs the solo pool one task at a time', async () => {
    const h = createHarness();
    let running = 0;
    let most = 0;
    h.app.task('step', async () => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
    });
    await h.startWorker({ pool: 'solo' });
    const ids = await Promise.all([1, 2, 3, 4].map(() => h.app.sendTask('step')));
    for (const r of ids) await h.result(r.id);
    expect(most).toBe(1);
  });

  it('with -O fair reserves only as many messages as the pool can start', () => {
    const { app } = createHarness();
    expect(resolveWorkerOptions(app, { concurrency: 4, optimization: 'fair' }).prefetch).toBe(4);
    expect(resolveWorkerOptions(app, { concurrency: 4, optimization: 'fair', prefetchMultiplier: 2 }).prefetch).toBe(8);
  });

  it('warns that the async pool cannot kill a task only when that pool has a hard limit', async () => {
    const h = createHarness();
    await h.startWorker({ timeLimit: 5 });
    expect(h.logs.some((l) => l.level === 40 && String(l.msg).includes('the async pool cannot kill a task'))).toBe(true);
  });

  it('checks autoscale bounds', () => {
    const { app } = createHarness();
    expect(resolveWorkerOptions(app, { autoscale: [10, 3] })).toMatchObject({ concurrency: 10, autoscale: { max: 10, min: 3 } });
    expect(() => resolveWorkerOptions(app, { autoscale: [2, 5] })).toThrow(/0 <= min <= max/);
  });
});

describe('AsyncPool', () => {
  it("handles a finished job's result before the next job starts, whether it started at once or waited", async () => {
    const { app } = createHarness();
    const pool = new AsyncPool(app, 1);
    const order: string[] = [];
    app.task('step', (name: string) => {
      order.push(`run ${name}`);
      return name;
    });
    const job = (name: string) =>
      pool.apply({ message: buildTaskMessage({ task: 'step', args: [name], kwargs: {}, ignoreResult: true }), env: { hostname: 'h' } }).then((r) => {
        order.push(`handled ${name}`);
        return r;
      });
    // 'a' takes the free slot at once; 'b' and 'c' wait for it.
    const results = await Promise.all([job('a'), job('b'), job('c')]);
    expect(order).toEqual(['run a', 'handled a', 'run b', 'handled b', 'run c', 'handled c']);
    expect(results.map((r) => r.started && r.outcome.kind)).toEqual(['success', 'success', 'success']);
    expect(pool.active).toBe(0);
    // The slot came back: a later job starts at once again.
    await job('d');
    expect(order.slice(-2)).toEqual(['run d', 'handled d']);
  });
});

describe('Autoscaler', () => {
  it('grows the pool while tasks wait and shrinks it to min after the keepalive', () => {
    const { app } = createHarness();
    const pool = new AsyncPool(app, 1);
    const scaler = new Autoscaler(pool, { max: 4, min: 1, keepaliveMs: 1000 }, app.log);
    const never = new Promise<never>(() => {});
    app.task('hang', () => never);
    const job = () => pool.apply({ message: buildTaskMessage({ task: 'hang', args: [], kwargs: {} }), env: { hostname: 'h' } });
    void job();
    void job();
    void job();
    expect(pool.waiting).toBe(2);
    scaler.tick(0);
    expect(pool.size).toBe(3);
    expect(pool.waiting).toBe(0);
    scaler.tick(500);
    expect(pool.size).toBe(3);
    pool.cancelWaiting();
    // Three still run, so it cannot shrink below them; with nothing running it would go to min.
    scaler.tick(5000);
    expect(pool.size).toBe(3);
  });
});
