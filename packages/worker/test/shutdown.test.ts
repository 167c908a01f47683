import type { Delivery, TaskContext } from '@taskq/core';
import { describe, expect, it } from 'vitest';
import { createHarness, gate, until } from './helpers/harness.js';

/** A bound task that waits until the test opens `g` or its signal aborts (rejecting with the abort reason). */
function waitFor(g: { promise: Promise<void> }, seen: TaskContext[]) {
  return (ctx: TaskContext): Promise<string> => {
    seen.push(ctx);
    return new Promise<string>((resolve, reject) => {
      void g.promise.then(() => resolve('finished'));
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
    });
  };
}

describe('Worker: warm shutdown', () => {
  it('finishes the running task, returns prefetched and eta tasks to the queue, and they run again later', async () => {
    const { app, startWorker, result } = createHarness();
    const release = gate();
    const seen: TaskContext[] = [];
    const job = app.task('test.job', waitFor(release, seen), { bind: true });
    const worker = await startWorker({ concurrency: 1, prefetchMultiplier: 4 });
    const first = await job.delay();
    const rest = await Promise.all([job.delay(), job.delay(), job.applyAsync([], { countdown: 3600 })]);
    const broker = await app.getBroker();
    await until(() => worker.stats().active === 1 && worker.stats().reserved === 2 && worker.stats().scheduled === 1, 5000, '1 running, 2 reserved, 1 scheduled');
    expect(await broker.queueSize('celery')).toBe(0);

    const stopping = worker.stop();
    await until(() => worker.stats().reserved === 0 && worker.stats().scheduled === 0, 5000, 'reserved tasks handed back');
    expect(await broker.queueSize('celery')).toBe(3);
    release.open();
    await stopping;
    await worker.stopped;
    expect(await result(first.id)).toMatchObject({ status: 'SUCCESS', result: 'finished' });

    const next = await startWorker({ concurrency: 3 });
    for (const r of rest.slice(0, 2)) expect((await result(r.id)).status).toBe('SUCCESS');
    await until(() => next.stats().scheduled === 1, 5000, 'the eta task held again');
    expect(seen.slice(1).every((ctx) => ctx.request.redelivered)).toBe(true);
  });

  it('lets an early-acked task finish: it was started, so it is not lost', async () => {
    const { app, startWorker, result } = createHarness();
    const release = gate();
    const job = app.task('test.job', waitFor(release, []), { bind: true, acksLate: false });
    const worker = await startWorker();
    const sent = await job.delay();
    await until(() => worker.stats().active === 1, 5000, 'the task running');
    const stopping = worker.stop();
    release.open();
    await stopping;
    expect(await result(sent.id)).toMatchObject({ status: 'SUCCESS' });
    expect(await (await app.getBroker()).queueSize('celery')).toBe(0);
  });

  it('turns cold when running tasks outlast shutdownTimeout: their signals abort and late-acked messages are requeued', async () => {
    const { app, startWorker } = createHarness();
    const seen: TaskContext[] = [];
    const job = app.task('test.job', waitFor(gate(), seen), { bind: true, acksLate: true });
    const worker = await startWorker({ shutdownTimeout: 0.05 });
    const sent = await job.delay();
    await until(() => seen.length === 1, 5000, 'the task running');
    await worker.stop();
    expect(seen[0]!.signal.aborted).toBe(true);
    expect(await (await app.getBroker()).queueSize('celery')).toBe(1);
    expect(await app.AsyncResult(sent.id).state).toBe('PENDING');
  });

  it('resolves `stopped` and returns the same promise from repeated stop() calls', async () => {
    const { startWorker } = createHarness();
    const worker = await startWorker();
    const a = worker.stop();
    expect(worker.stop()).toBe(a);
    await a;
    await expect(worker.stopped).resolves.toBeUndefined();
  });
});

describe('Worker: cold shutdown', () => {
  it('aborts running tasks and requeues every unacknowledged message at once', async () => {
    const { app, startWorker } = createHarness();
    const seen: TaskContext[] = [];
    const job = app.task('test.job', waitFor(gate(), seen), { bind: true, acksLate: true });
    const worker = await startWorker({ concurrency: 2 });
    const sent = await Promise.all([job.delay(), job.delay(), job.delay()]);
    await until(() => seen.length === 2 && worker.stats().reserved === 1, 5000, '2 running, 1 reserved');
    await worker.stop({ cold: true });
    expect(seen.every((ctx) => ctx.signal.aborted)).toBe(true);
    expect(await (await app.getBroker()).queueSize('celery')).toBe(3);
    for (const r of sent) expect(await app.AsyncResult(r.id).state).toBe('PENDING');
  });

  it('cuts a warm shutdown short when asked for a cold one', async () => {
    const { app, startWorker } = createHarness();
    const seen: TaskContext[] = [];
    const job = app.task('test.job', waitFor(gate(), seen), { bind: true, acksLate: true });
    const worker = await startWorker({ shutdownTimeout: 3600 });
    await job.delay();
    await until(() => seen.length === 1, 5000, 'the task running');
    const warm = worker.stop();
    await worker.stop({ cold: true });
    await warm;
    expect(seen[0]!.signal.aborted).toBe(true);
    expect(await (await app.getBroker()).queueSize('celery')).toBe(1);
  });
});

describe('Worker: acknowledgement', () => {
  it('with acksLate, keeps the message unacked while the task runs, so the broker redelivers it if the worker goes away', async () => {
    const { app, startWorker } = createHarness();
    const seen: TaskContext[] = [];
    const job = app.task('test.job', waitFor(gate(), seen), { bind: true, acksLate: true });
    await startWorker();
    await job.delay();
    await until(() => seen.length === 1, 5000, 'the task running');
    const broker = await app.getBroker();
    expect(await broker.queueSize('celery')).toBe(0);
    // The worker's connection drops mid-task, as when its process dies.
    await broker.close();
    expect(await broker.queueSize('celery')).toBe(1);
  });

  it('with early ack (the default), acks before running, so a task lost mid-run is not redelivered', async () => {
    const { app, startWorker } = createHarness();
    const seen: TaskContext[] = [];
    const job = app.task('test.job', waitFor(gate(), seen), { bind: true });
    await startWorker();
    await job.delay();
    await until(() => seen.length === 1, 5000, 'the task running');
    const broker = await app.getBroker();
    await broker.close();
    expect(await broker.queueSize('celery')).toBe(0);
  });

  it('follows app.conf.taskAcksLate when the task does not say', async () => {
    const { app, startWorker } = createHarness({ taskAcksLate: true });
    const seen: TaskContext[] = [];
    const job = app.task('test.job', waitFor(gate(), seen), { bind: true });
    await startWorker();
    await job.delay();
    await until(() => seen.length === 1, 5000, 'the task running');
    const broker = await app.getBroker();
    await broker.close();
    expect(await broker.queueSize('celery')).toBe(1);
  });

  it('republishes a retry before acking the original (acksLate), so the task is never absent from the broker', async () => {
    const { app, startWorker, result } = createHarness();
    const broker = await app.getBroker();
    const events: string[] = [];
    const publish = broker.publish.bind(broker);
    broker.publish = async (message, route) => {
      await publish(message, route);
      events.push(`publish retries=${message.headers.retries}`);
    };
    const consume = broker.consume.bind(broker);
    broker.consume = (queues, onDelivery, options) =>
      consume(
        queues,
        (d: Delivery) =>
          onDelivery({
            message: d.message,
            queue: d.queue,
            redelivered: d.redelivered,
            ack: () => {
              events.push(`ack retries=${d.message.headers.retries}`);
              return d.ack();
            },
            reject: (requeue) => d.reject(requeue),
          }),
        options,
      );
    const job = app.task('test.job', (ctx: TaskContext) => (ctx.request.retries === 0 ? ctx.retry({ countdown: 0 }) : 'ok'), { bind: true, acksLate: true });
    await startWorker();
    const sent = await job.delay();
    expect((await result(sent.id)).status).toBe('SUCCESS');
    await until(() => events.length === 4, 5000, 'the second ack');
    expect(events).toEqual(['publish retries=0', 'publish retries=1', 'ack retries=0', 'ack retries=1']);
  });
});
