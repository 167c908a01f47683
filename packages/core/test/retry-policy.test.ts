import { describe, expect, it } from 'vitest';
import { backoffCountdown, DEFAULT_PUBLISH_RETRY_POLICY, publishRetryDelay } from '../src/retry-policy.js';

const noJitter = { retryBackoff: true, retryBackoffMax: 600, retryJitter: false } as const;

describe('backoffCountdown (Celery get_exponential_backoff_interval)', () => {
  it('doubles from a 1 s base with retryBackoff: true', () => {
    expect([0, 1, 2, 3, 4].map((r) => backoffCountdown(r, noJitter))).toEqual([1, 2, 4, 8, 16]);
  });

  it('doubles from the given base in seconds', () => {
    expect([0, 1, 2].map((r) => backoffCountdown(r, { ...noJitter, retryBackoff: 5 }))).toEqual([5, 10, 20]);
  });

  it('never exceeds retryBackoffMax', () => {
    expect(backoffCountdown(20, { ...noJitter, retryBackoffMax: 90 })).toBe(90);
  });

  it('with jitter, picks a whole number of seconds in [0, countdown] from the random source', () => {
    const jitter = { ...noJitter, retryJitter: true };
    expect(backoffCountdown(3, jitter, () => 0)).toBe(0);
    expect(backoffCountdown(3, jitter, () => 0.5)).toBe(4);
    expect(backoffCountdown(3, jitter, () => 0.999999)).toBe(8);
  });
});

describe('publishRetryDelay', () => {
  it('grows by intervalStep from intervalStart up to intervalMax', () => {
    const policy = { maxRetries: 5, intervalStart: 1, intervalStep: 2, intervalMax: 4 };
    expect([0, 1, 2, 3].map((a) => publishRetryDelay(policy, a))).toEqual([1, 3, 4, 4]);
  });

  it("defaults to Celery's publish retry policy: 3 retries, 0 s then 0.2 s", () => {
    expect(DEFAULT_PUBLISH_RETRY_POLICY).toEqual({ maxRetries: 3, intervalStart: 0, intervalStep: 0.2, intervalMax: 0.2 });
    expect([0, 1, 2].map((a) => publishRetryDelay(DEFAULT_PUBLISH_RETRY_POLICY, a))).toEqual([0, 0.2, 0.2]);
  });
});
