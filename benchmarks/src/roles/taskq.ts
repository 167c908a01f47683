/** taskq's side of each row: producer, worker (drain/e2e) and round-trip client. */
import { type App, createApp } from '@taskq/core';
import { Worker } from '@taskq/worker';
import type { ChildResult, Job } from '../protocol.js';
import { peakRssMiB, percentile, rttWarmups, until, warmupQueue, windowed } from '../protocol.js';

export const TASK_NAME = 'bench.noop';

function makeApp(job: Job): App {
  // Logging at warn, the default of Celery's worker (`celery worker --loglevel` is WARNING; the Celery
  // rows run at error): no line per task. BENCH_TASKQ_LOG_LEVEL=info measures the worker with a
  // "received" and a "succeeded" line per task (written to the child's stdout = /dev/null).
  const level = process.env.BENCH_TASKQ_LOG_LEVEL ?? 'warn';
  return createApp({ name: 'bench', brokerUrl: job.url, resultBackend: job.backend, defaultQueue: job.queue, env: { ...process.env, TASKQ_LOG_LEVEL: level } });
}

/** Run this role's hot path on a side queue (see protocol.ts, WARMUP), then remove what it left. */
async function warmUp(app: App, job: Job): Promise<void> {
  // The round-trip client warms up in its measured step: it needs the worker, which starts at "go".
  if (job.warmup <= 0 || job.role === 'rtt') return;
  const queue = warmupQueue(job);
  const args = Array.from({ length: job.warmup }, (_, i) => [i] as [number]);
  if (job.role === 'enqueue-bulk') await app.sendMany(TASK_NAME, args, { queue });
  else await windowed(job.warmup, job.role === 'enqueue-one' ? job.warmup : 100, (i) => app.sendTask(TASK_NAME, [i], {}, { queue }));
  if (job.role === 'drain') {
    const worker = new Worker(app, { concurrency: job.concurrency, queues: [queue] });
    await worker.start();
    await until(() => (worker.stats().processed[TASK_NAME] ?? 0) >= job.warmup);
    await worker.stop();
  }
  await (await app.getBroker()).purge(queue);
}

/** Set up, then return the measured step. */
export async function prepare(job: Job): Promise<() => Promise<ChildResult>> {
  const app = makeApp(job);
  const noop = app.task(TASK_NAME, (i: number) => i);
  await app.getBroker();
  await app.getBackend();
  await warmUp(app, job);
  switch (job.role) {
    case 'enqueue-one':
    case 'produce':
      return async () => {
        const t0 = performance.now();
        // enqueue-one: all calls issued at once; produce: 100 in flight (a busy web tier).
        await windowed(job.jobs, job.role === 'produce' ? 100 : job.jobs, (i) => noop.delay(i));
        const ms = performance.now() - t0;
        await app.close();
        return { ms, count: job.jobs, rssMiB: peakRssMiB() };
      };
    case 'enqueue-bulk':
      return async () => {
        const t0 = performance.now();
        await app.sendMany(noop, Array.from({ length: job.jobs }, (_, i) => [i] as [number]));
        const ms = performance.now() - t0;
        await app.close();
        return { ms, count: job.jobs, rssMiB: peakRssMiB() };
      };
    case 'drain': {
      const worker = new Worker(app, { concurrency: job.concurrency, queues: [job.queue] });
      return async () => {
        const t0 = performance.now();
        await worker.start();
        await until(() => (worker.stats().processed[TASK_NAME] ?? 0) >= job.jobs);
        const ms = performance.now() - t0;
        const rssMiB = peakRssMiB();
        await worker.stop();
        return { ms, count: job.jobs, rssMiB };
      };
    }
    case 'rtt':
      return async () => {
        // Unmeasured round trips first (the JIT's warm-up; at least one, to connect the result subscriber).
        for (let i = 0; i < rttWarmups(job.warmup); i++) await (await noop.delay(-1)).get({ timeout: 60_000 });
        const samples: number[] = [];
        const t0 = performance.now();
        for (let i = 0; i < job.jobs; i++) {
          const t = performance.now();
          await (await noop.delay(i)).get({ timeout: 60_000 });
          samples.push(performance.now() - t);
        }
        const ms = performance.now() - t0;
        samples.sort((a, b) => a - b);
        await app.close();
        return { ms, count: job.jobs, p50: percentile(samples, 50), p99: percentile(samples, 99), rssMiB: peakRssMiB() };
      };
  }
}
