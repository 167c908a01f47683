/** Time for the scheduler, injectable so tests drive it without real sleeps. */

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolve after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    }),
};

/**
 * A clock that only moves when told: `advance(ms)` moves time and wakes the
 * sleepers whose time has come. For tests of the scheduler loop.
 */
export class FakeClock implements Clock {
  private time: number;
  private sleepers: Array<{ wake: number; resolve: () => void }> = [];

  constructor(start: number | Date = Date.UTC(2025, 0, 1)) {
    this.time = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.time;
  }

  /** Set the time (also backwards, to simulate a clock step). */
  set(time: number | Date): void {
    this.time = typeof time === 'number' ? time : time.getTime();
  }

  /** How many sleepers are waiting (lets a test wait until the loop is idle). */
  get waiting(): number {
    return this.sleepers.length;
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const sleeper = { wake: this.time + ms, resolve };
      const abort = (): void => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        resolve();
      };
      sleeper.resolve = () => {
        signal.removeEventListener('abort', abort);
        resolve();
      };
      signal.addEventListener('abort', abort, { once: true });
      this.sleepers.push(sleeper);
    });
  }

  /** Move time forward by `ms` and wake every sleeper that is due. */
  advance(ms: number): void {
    this.time += ms;
    const due = this.sleepers.filter((s) => s.wake <= this.time);
    this.sleepers = this.sleepers.filter((s) => s.wake > this.time);
    for (const s of due) s.resolve();
  }
}
