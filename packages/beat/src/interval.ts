/** `every(15)`, `every('5m')`: a fixed interval (Celery's `schedule(run_every=…)` / a timedelta). */
import { ConfigError } from '@taskq/core';
import type { Schedule } from './schedule.js';

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds of an interval given as a number of seconds or a string like `'30s'`, `'5m'`, `'1h'`, `'1.5h'`, `'250ms'`. */
export function parseIntervalSeconds(value: number | string): number {
  let seconds: number;
  if (typeof value === 'number') {
    seconds = value;
  } else if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(value);
    if (!m) throw new ConfigError(`interval ${JSON.stringify(value)} is not understood; use seconds (15) or a string such as '30s', '5m', '1h', '1d'`);
    seconds = Number(m[1]) * UNIT_SECONDS[(m[2] ?? 's').toLowerCase()]!;
  } else {
    throw new ConfigError(`an interval must be a number of seconds or a string such as '30s', got ${typeof value}`);
  }
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new ConfigError(`an interval must be more than 0 seconds, got ${JSON.stringify(value)}`);
  }
  if (seconds < 0.001) throw new ConfigError(`an interval must be at least 1 ms, got ${JSON.stringify(value)}`);
  return seconds;
}

/**
 * A schedule that runs every `seconds`. Slots sit on a grid aligned to the
 * Unix epoch (every 15 s runs at :00, :15, :30, :45), so runs stay exactly one
 * interval apart and two beat processes agree on which tick is which. As in
 * Celery, a new entry first runs one interval after beat starts (at the next
 * grid point), not at once.
 */
export class IntervalSchedule implements Schedule {
  readonly kind = 'interval' as const;
  /** The interval in seconds (NaN when invalid). */
  readonly seconds: number;
  private readonly ms: number;
  private readonly error: ConfigError | undefined;

  constructor(every: number | string) {
    let seconds = Number.NaN;
    try {
      seconds = parseIntervalSeconds(every);
    } catch (error) {
      this.error = error as ConfigError;
    }
    this.seconds = seconds;
    this.ms = Math.round(seconds * 1000);
  }

  validate(): void {
    if (this.error) throw this.error;
  }

  dueSlot(after: number, now: number): number | undefined {
    this.validate();
    const slot = Math.floor(now / this.ms) * this.ms;
    return slot > after ? slot : undefined;
  }

  nextAfter(t: number): number {
    this.validate();
    return (Math.floor(t / this.ms) + 1) * this.ms;
  }

  toString(): string {
    return `every ${this.seconds}s`;
  }
}

/** An interval schedule: `every(15)` (seconds) or `every('30s' | '5m' | '1h')`. */
export function every(interval: number | string): IntervalSchedule {
  return new IntervalSchedule(interval);
}
