import { describe, expect, it } from 'vitest';
import { createHarness, gate, until } from './helpers/harness.js';

describe('Worker: eta, countdown and expiry', () => {
  it('holds a countdown task until due while a later task without one runs first', async () => {
    const { app, startWorker, result } = createHarness();
    const order: string[] = [];
    const record = app.task('test.record', (label: string) => {
      order.push(label);
    });
    await startWorker({ concurrency: 1 });
    const later = await record.applyAsync(['countdown'], { countdown: 0.3 });
    const now = await record.delay('immediate');
    await result(now.id);
    await result(later.id);
    expect(order).toEqual(['immediate', 'countdown']);
  });

  it('keeps a held eta task off the concurrency slots and out of the prefetch budget', async () => {
    const { app, startWorker, result } = createHarness();
    const hold = gate();
    const blocker = app.task('test.blocker', () => hold.promise);
    const quick = app.task('test.quick', () => 'ok');
    const worker = await startWorker({ concurrency: 1, prefetchMultiplier: 1 });
    const scheduled = await quick.applyAsync([], { countdown: 60 });
    await until(() => worker.stats().scheduled === 1, 5000, 'the eta task held');
    // With prefetch 1, the held task would block the consumer if Celery's prefetch raise were missing.
    const running = await blocker.delay();
    await until(() => worker.stats().active === 1, 5000, 'the blocker running in the only slot');
    hold.open();
    expect((await result(running.id)).status).toBe('SUCCESS');
    expect(worker.stats().scheduled).toBe(1);
    expect(await (await app.AsyncResult(scheduled.id).state)).toBe('PENDING');
  });

  it('stores REVOKED for a task that expired before it ran, without running it', async () => {
    const { app, startWorker, result } = createHarness();
    let ran = false;
    const report = app.task('reports.build', () => {
      ran = true;
    });
    const sent = await report.applyAsync([], { expires: new Date(Date.now() - 1000) });
    await startWorker();
    expect(await result(sent.id)).toMatchObject({ status: 'REVOKED' });
    expect(ran).toBe(false);
  });

  it('stores REVOKED for an eta task that expires while held', async () => {
    const { app, startWorker, result } = createHarness();
    let ran = false;
    const report = app.task('reports.build', () => {
      ran = true;
    });
    await startWorker();
    const sent = await report.applyAsync([], { countdown: 0.2, expires: 0.1 });
    expect(await result(sent.id)).toMatchObject({ status: 'REVOKED' });
    expect(ran).toBe(false);
  });
});
