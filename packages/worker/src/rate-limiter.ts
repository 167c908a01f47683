/**
 * Per-task rate limits, per worker, as Celery does them: a token bucket per
 * task name refilled at the task's rate (`'10/s'`, `'100/m'`, `'1000/h'`)
 * with a capacity of one token (kombu's `TokenBucket(rate, capacity=1)`), so
 * an idle task cannot save up a burst. The worker asks before running a task;
 * a task without a token is held aside until its turn, keeping its prefetch
 * slot (see ConsumerLoop), while other tasks carry on.
 */
import { type App, parseRateLimit, type RateLimit } from '@taskq/core';

interface Bucket {
  rate: RateLimit;
  /** Below zero: tokens already promised to held tasks. */
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
   * now, else the milliseconds until its token is due: the token is reserved
   * (tasks held one after the other wake up in turn, not all at once).
   */
  acquire(taskName: string): number {
    const rate = this.limitOf(taskName);
    // As in Celery, a rate of 0 means no limit.
    if (!rate || rate.perSecond <= 0) return 0;
    const now = this.now();
    let bucket = this.buckets.get(taskName);
    if (!bucket || bucket.rate !== rate) {
      bucket = { rate, tokens: 1, updatedAt: now };
      this.buckets.set(taskName, bucket);
    }
    bucket.tokens = Math.min(1, bucket.tokens + ((now - bucket.updatedAt) / 1000) * rate.perSecond);
    bucket.updatedAt = now;
    bucket.tokens -= 1;
    return bucket.tokens >= 0 ? 0 : Math.ceil((-bucket.tokens / rate.perSecond) * 1000);
  }
}
