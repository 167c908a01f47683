/** Retry decisions and backoff maths, shared by the worker and eager mode. */

export interface RetryPolicy {
  /** How many times the publish itself is retried when the broker connection fails. */
  maxRetries: number;
  /** Seconds before the first retry. */
  intervalStart: number;
  /** Seconds added for each further retry. */
  intervalStep: number;
  /** Upper bound of the wait between retries, in seconds. */
  intervalMax: number;
}

/** Celery's default `retry_policy` for publishing. */
export const DEFAULT_PUBLISH_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxRetries: 3,
  intervalStart: 0,
  intervalStep: 0.2,
  intervalMax: 0.2,
});

/** Seconds to wait before publish attempt `attempt` (0-based) under a policy. */
export function publishRetryDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.intervalMax, policy.intervalStart + policy.intervalStep * attempt);
}

export interface BackoffOptions {
  /** `true` for a 1 s base, or the base in seconds. */
  retryBackoff: boolean | number;
  retryBackoffMax: number;
  retryJitter: boolean;
}

/**
 * Countdown for the `retries`-th retry with exponential backoff, as Celery's
 * `get_exponential_backoff_interval`: `min(max, base * 2^retries)`, and with
 * jitter a random value in `[0, that]` (full jitter) so retries of many tasks
 * spread out.
 */
export function backoffCountdown(retries: number, options: BackoffOptions, random: () => number = Math.random): number {
  const base = options.retryBackoff === true ? 1 : Number(options.retryBackoff);
  const countdown = Math.min(options.retryBackoffMax, base * 2 ** retries);
  return options.retryJitter ? Math.floor(random() * (countdown + 1)) : countdown;
}
