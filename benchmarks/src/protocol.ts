/**
 * The parent/child protocol: every measured side runs in its own child
 * process (one per system, row and run), so its peak RSS is its own.
 * The child sets up, says `ready`, waits for `go`, does the work and sends
 * one `result`. Messages travel over the IPC channel; stdout is free for logs.
 */

/** What a child is asked to do. */
export interface Job {
  system: 'taskq' | 'bullmq' | 'amqplib';
  /** enqueue-one | enqueue-bulk | drain | produce | rtt */
  role: 'enqueue-one' | 'enqueue-bulk' | 'drain' | 'produce' | 'rtt';
  /** Broker URL (redis://… or amqp://…). */
  url: string;
  /** Result backend URL (taskq), or the Redis URL of BullMQ. */
  backend: string;
  queue: string;
  jobs: number;
  concurrency: number;
  /** Unmeasured jobs the child runs first on a side queue (see WARMUP); 0 = a cold process. */
  warmup: number;
}

/** What a child reports. */
export interface ChildResult {
  /** Wall time of the measured part. */
  ms: number;
  /** Messages done in `ms`. */
  count: number;
  /** Round-trip percentiles (rtt role), ms. */
  p50?: number;
  p99?: number;
  /** Peak resident set size of the child, MiB (getrusage maxrss). */
  rssMiB: number;
  /** CPU time (user + system) the child spent from "go" to its result, ms. Filled in by child.ts. */
  cpuMs?: number;
  /** Main-thread garbage-collection pauses in that time, ms (minor and major). Filled in by child.ts. */
  gcMs?: number;
}

export type ChildMessage = { type: 'ready' } | { type: 'result'; result: ChildResult } | { type: 'error'; message: string };
export type ParentMessage = { type: 'go' };

/** Peak RSS of this process so far (kernel's maxrss, KiB → MiB). */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/**
 * Jobs each child runs on a side queue before it reports ready (BENCH_WARMUP,
 * default 5000; 0 = measure cold processes): the JIT compiles the hot path
 * there, as it has in any worker or producer that has run for a while, instead
 * of inside the measured seconds. The same for every system.
 */
export const WARMUP = Number(process.env.BENCH_WARMUP ?? 5000);

/** Unmeasured round trips of a round-trip client before it measures: at least one (it connects the result subscriber), at most 200. */
export function rttWarmups(warmup: number): number {
  return Math.max(1, Math.min(warmup, 200));
}

/** The side queue of a child's warm-up (per role: the producer and worker of one row warm up apart). */
export function warmupQueue(job: { queue: string; role: string }): string {
  return `${job.queue}-warmup-${job.role}`;
}

/** Run `fn` concurrently over 0..n-1 with at most `window` in flight. */
export async function windowed(n: number, window: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(window, n) }, async () => {
    while (next < n) {
      const i = next++;
      await fn(i);
    }
  });
  await Promise.all(lanes);
}

/** Resolve when `done()` is true, checking every `everyMs`. */
export function until(done: () => boolean, everyMs = 2): Promise<void> {
  return new Promise((resolve) => {
    const tick = (): void => {
      if (done()) resolve();
      else setTimeout(tick, everyMs);
    };
    tick();
  });
}
