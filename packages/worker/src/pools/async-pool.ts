/**
 * The async pool: tasks run in this process's event loop, interleaved at
 * their awaits, at most `size` at once (a counting semaphore). Suited to
 * I/O-bound tasks. A task here cannot be killed: at its hard time limit
 * `traceTask` marks it failed and its slot is freed, but its promise is
 * abandoned and whatever it does keeps running until it settles.
 */
import { type App, type TraceOutcome, traceTask } from '@taskq/core';
import type { Pool, PoolJob, PoolResult } from './pool.js';

interface Waiter {
  job: PoolJob;
  resolve(result: PoolResult): void;
  reject(error: unknown): void;
}

export class AsyncPool implements Pool {
  readonly kind = 'async';
  private running = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    private readonly app: App,
    readonly size: number,
  ) {}

  get active(): number {
    return this.running;
  }

  get waiting(): number {
    return this.queue.length;
  }

  apply(job: PoolJob): Promise<PoolResult> {
    return new Promise<PoolResult>((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.next();
    });
  }

  cancelWaiting(): number {
    const cancelled = this.queue.splice(0);
    for (const w of cancelled) w.resolve({ started: false });
    return cancelled.length;
  }

  async close(): Promise<void> {
    this.cancelWaiting();
  }

  /** Start waiting jobs while slots are free. */
  private next(): void {
    while (this.running < this.size && this.queue.length > 0) {
      const waiter = this.queue.shift()!;
      this.running++;
      this.run(waiter.job)
        .then((outcome) => waiter.resolve({ started: true, outcome }), waiter.reject)
        .finally(() => {
          this.running--;
          this.next();
        });
    }
  }

  private async run(job: PoolJob): Promise<TraceOutcome> {
    await job.onStart?.();
    return traceTask(this.app, job.message, job.env);
  }
}
