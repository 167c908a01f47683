/** BullMQ's side of each Redis row, shaped like taskq's. Completed jobs are kept with their return value (removeOnComplete left at its default). */
import { Queue, QueueEvents, Worker } from 'bullmq';
import type { ChildResult, Job } from '../protocol.js';
import { peakRssMiB, percentile, rttWarmups, until, warmupQueue, windowed } from '../protocol.js';

export function connectionOf(url: string): { host: string; port: number; db: number; maxRetriesPerRequest: null } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379), db: Number(u.pathname.slice(1) || 0), maxRetriesPerRequest: null };
}

/** Run this role's hot path on a side queue (see protocol.ts, WARMUP), then remove it. */
async function warmUp(job: Job): Promise<void> {
  // The round-trip client warms up in its measured step: it needs the worker, which starts at "go".
  if (job.warmup <= 0 || job.role === 'rtt') return;
  const connection = connectionOf(job.backend);
  const queue = new Queue(warmupQueue(job), { connection });
  await queue.waitUntilReady();
  if (job.role === 'enqueue-bulk') await queue.addBulk(Array.from({ length: job.warmup }, (_, i) => ({ name: 'noop', data: { i } })));
  else await windowed(job.warmup, job.role === 'enqueue-one' ? job.warmup : 100, (i) => queue.add('noop', { i }));
  if (job.role === 'drain') {
    let done = 0;
    const worker = new Worker(queue.name, async (j) => (j.data as { i: number }).i, { connection, concurrency: job.concurrency });
    worker.on('completed', () => {
      done++;
    });
    await until(() => done >= job.warmup);
    await worker.close();
  }
  await queue.obliterate({ force: true });
  await queue.close();
}

export async function prepare(job: Job): Promise<() => Promise<ChildResult>> {
  const connection = connectionOf(job.backend);
  await warmUp(job);
  switch (job.role) {
    case 'enqueue-one':
    case 'produce': {
      const queue = new Queue(job.queue, { connection });
      await queue.waitUntilReady();
      return async () => {
        const t0 = performance.now();
        await windowed(job.jobs, job.role === 'produce' ? 100 : job.jobs, (i) => queue.add('noop', { i }));
        const ms = performance.now() - t0;
        await queue.close();
        return { ms, count: job.jobs, rssMiB: peakRssMiB() };
      };
    }
    case 'enqueue-bulk': {
      const queue = new Queue(job.queue, { connection });
      await queue.waitUntilReady();
      return async () => {
        const t0 = performance.now();
        await queue.addBulk(Array.from({ length: job.jobs }, (_, i) => ({ name: 'noop', data: { i } })));
        const ms = performance.now() - t0;
        await queue.close();
        return { ms, count: job.jobs, rssMiB: peakRssMiB() };
      };
    }
    case 'drain': {
      let done = 0;
      const worker = new Worker(job.queue, async (j) => (j.data as { i: number }).i, { connection, concurrency: job.concurrency, autorun: false });
      worker.on('completed', () => {
        done++;
      });
      await worker.waitUntilReady();
      return async () => {
        const t0 = performance.now();
        void worker.run();
        await until(() => done >= job.jobs);
        const ms = performance.now() - t0;
        const rssMiB = peakRssMiB();
        await worker.close();
        return { ms, count: job.jobs, rssMiB };
      };
    }
    case 'rtt': {
      const queue = new Queue(job.queue, { connection });
      const events = new QueueEvents(job.queue, { connection });
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
      return async () => {
        for (let i = 0; i < rttWarmups(job.warmup); i++) await (await queue.add('noop', { i: -1 })).waitUntilFinished(events, 60_000);
        const samples: number[] = [];
        const t0 = performance.now();
        for (let i = 0; i < job.jobs; i++) {
          const t = performance.now();
          await (await queue.add('noop', { i })).waitUntilFinished(events, 60_000);
          samples.push(performance.now() - t);
        }
        const ms = performance.now() - t0;
        samples.sort((a, b) => a - b);
        await Promise.all([queue.close(), events.close()]);
        return { ms, count: job.jobs, p50: percentile(samples, 50), p99: percentile(samples, 99), rssMiB: peakRssMiB() };
      };
    }
  }
}
