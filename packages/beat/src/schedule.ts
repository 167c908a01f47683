import type { ConfigError } from '@taskq/core';

/**
 * What every schedule answers. Times are epoch milliseconds; a schedule's
 * runs ("slots") are exact instants, so every beat process computes the same
 * slot for the same tick — which is what lets the Redis store claim a tick
 * once, whoever sends it.
 */

export interface Schedule {
  readonly kind: 'interval' | 'crontab';
  /**
   * The latest slot in `(after, now]`, or undefined when none is due. After
   * downtime this is the most recent missed slot only: a missed entry runs
   * once, not once per missed slot (Celery's behaviour).
   */
  dueSlot(after: number, now: number, timezone: string): number | undefined;
  /** The first slot strictly after `t`. */
  nextAfter(t: number, timezone: string): number;
  /**
   * Throws the schedule's {@link ConfigError} if it is invalid. Building a
   * schedule never throws, so the beat can name the entry a bad schedule
   * belongs to when it loads the schedule.
   */
  validate(): void;
  /** Human-readable form for logs (`every 15s`, `crontab(0 0 * * *)`). */
  toString(): string;
}

/** True for a {@link Schedule} (also one from a second copy of this package). */
export function isSchedule(value: unknown): value is Schedule {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Partial<Schedule>;
  return (v.kind === 'interval' || v.kind === 'crontab') && typeof v.dueSlot === 'function' && typeof v.nextAfter === 'function';
}
