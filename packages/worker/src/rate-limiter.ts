/**
 * Per-task rate limits, per worker, as Celery does them: a token bucket per
 * task name, refilled at the task's rate (`'10/s'`, `'100/m'`, `'1000/h'`),
 * holding at most one second's worth of tokens (at least one) so an idle
 * task cannot save up a burst. The worker asks before running a task; a task
 * without a token is held aside until one is due, and other tasks carry on.
 */
import { type App, parseRateLimit, type RateLimit } from '@taskq/core';

interface Bucket {
  rate: RateLimit;
  capacity: number;
  tokens: number;
  /** When `tokens` was last brought up to date (ms, monotonic). */
  updatedAt: number;
}

/** Token buckets by task name; limits come from the tasks' `rateLimit` and can be changed at run time. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  /** Run-time overrides by task name; `null` lifts the task's own limit. */
  private readonly overrides = new Map<string, RateLimit | null>();

  constructor(
    private readonly app: App,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Change a task's rate limit on this worker (Celery's `rate_limit` control
   * command): a rate string, or `null` for no limit. Takes effect for the
   * next task of that name. Throws InvalidTaskOptionsError for a bad rate.
   */
  set(taskName: string, rate: string | null): void {
    this.overrides.set(taskName, rate === null ? null : parseRateLimit(rate));
    this.buckets.delete(taskName);
  }

  /** The limit in force for a task, if any. */
  limitOf(taskName: string): RateLimit | undefined {
    const override = this.overrides.get(taskName);
    if (override !== undefined) return override ?? undefined;
    return this.app.tasks.get(taskName)?.options.rateLimit;
  }

  /**
   * Take a token for one run of `taskName`. Returns 0 when the task may run
   * now, else the milliseconds until a token is due (nothing is taken then;
   * ask again after waiting).
   */
  acquire(taskName: string): number {
    const rate = this.limitOf(taskName);
    if (!rate || rate.perSecond <= 0) return rate && rate.perSecond <= 0 ? Number.POSITIVE_INFINITY : 0;
    const now = this.now();
    let bucket = this.buckets.get(taskName);
    if (!bucket || bucket.rate !== rate) {
      const capacity = Math.max(1, rate.perSecond);
      bucket = { rate, capacity, tokens: capacity, updatedAt: now };
      this.buckets.set(taskName, bucket);
    }
    bucket.tokens = Math.min(bucket.capacity, bucket.tokens + ((now - bucket.updatedAt) / 1000) * rate.perSecond);
    bucket.updatedAt = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / rate.perSecond) * 1000);
  }
}
