/**
 * The async pool: tasks run in this process's event loop, interleaved at
 * their awaits, at most `size` at once (a counting semaphore). Suited to
 * I/O-bound tasks. A task here cannot be killed: at its hard time limit
 * `traceTask` marks it failed and its slot is freed, but its promise is
 * abandoned and whatever it does keeps running until it settles.
 */
import { type App, Fifo, type TraceOutcome } from '@taskq/core';
import { runTask } from '../run-task.js';
import type { Pool, PoolJob, PoolResult } from './pool.js';

interface Waiter {
  job: PoolJob;
  resolve(result: PoolResult): void;
  reject(error: unknown): void;
}

export class AsyncPool implements Pool {
  private running = 0;
  private readonly queue = new Fifo<Waiter>();

  /** `kind` 'solo' is the same pool with size 1: one task at a time in the main loop (Celery's solo pool). */
  constructor(
    private readonly app: App,
    public size: number,
    readonly kind: 'async' | 'solo' = 'async',
  ) {}

  /** Autoscale: a bigger semaphore starts waiting jobs now; a smaller one takes effect as running jobs end. */
  resize(size: number): void {
    this.size = size;
    this.next();
  }

  get active(): number {
    return this.running;
  }

  get waiting(): number {
    return this.queue.length;
  }

  apply(job: PoolJob): Promise<PoolResult> {
    if (this.running < this.size && this.queue.length === 0) {
      // A free slot and nobody ahead: run now, with no waiter and no closures. The slot is released
      // by a reaction attached before the caller's, which defers it one more microtask: the caller's
      // reaction to this result (enqueued with it) still runs before the next job starts.
      this.running++;
      const result = this.run(job).then(this.toStarted);
      result.then(this.deferRelease, this.deferRelease);
      return result;
    }
    return new Promise<PoolResult>((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.next();
    });
  }

  private readonly toStarted = (outcome: TraceOutcome): PoolResult => ({ started: true, outcome });

  private readonly deferRelease = (): void => {
    queueMicrotask(this.releaseSlot);
  };

  cancelWaiting(): number {
    const cancelled: Waiter[] = [];
    for (let w = this.queue.shift(); w; w = this.queue.shift()) cancelled.push(w);
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
      // The slot starts the next job (whose body may run at once) in a microtask queued after
      // the caller's reaction to this one: a finished task is handled before the next begins.
      this.run(waiter.job).then(
        (outcome) => {
          waiter.resolve(this.toStarted(outcome));
          queueMicrotask(this.releaseSlot);
        },
        (error: unknown) => {
          waiter.reject(error);
          queueMicrotask(this.releaseSlot);
        },
      );
    }
  }

  /** A slot is free: start the next waiting job. */
  private readonly releaseSlot = (): void => {
    this.running--;
    this.next();
  };

  private run(job: PoolJob): Promise<TraceOutcome> {
    // The worker's onStart is synchronous: awaiting its undefined would cost turns per task.
    let starting: Promise<void> | void;
    try {
      starting = job.onStart?.();
    } catch (error) {
      return Promise.reject(error);
    }
    if (starting) return starting.then(() => runTask(this.app, job.message, job.env));
    try {
      return runTask(this.app, job.message, job.env);
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
