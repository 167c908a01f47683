/**
 * Where the beat keeps each entry's last run, and the lock that elects one
 * sending beat among many. A store's {@link ScheduleStore.claim} is the one
 * place a tick is decided: it records the run before the message is sent, so
 * a restart (or a second beat) never sends the same tick again.
 */

export interface ScheduleStore {
  /** Connect / read persisted state. Called once before the first tick. */
  open(): Promise<void>;
  /** Last runs (epoch ms) of the named entries; entries never seen are absent. */
  lastRuns(names: readonly string[]): Promise<Map<string, number>>;
  /**
   * Record `at` as the last run of an entry that has no record yet (a new
   * entry counts from now, as in Celery) and return the stored value, which
   * is the existing one when there was a record.
   */
  initialize(name: string, at: number): Promise<number>;
  /**
   * Claim tick `slot` of entry `name`: true at most once per (name, slot), and
   * only when `slot` is later than the recorded last run, which it then
   * becomes. The caller sends the message only after a true.
   */
  claim(name: string, slot: number): Promise<boolean>;
  /** Flush and disconnect. */
  close(): Promise<void>;
  /** For logs: `file:/path/to/taskq-beat-schedule.json`, `redis:prefix`. */
  describe(): string;
}

/** A lock with a time to live: the holder is the one beat that sends. */
export interface LeaderLock {
  /** How long the lock lives without renewal, in milliseconds. */
  readonly ttlMs: number;
  /** Take the lock, or renew it when this process holds it; false when another process holds it. */
  acquire(): Promise<boolean>;
  /** Give the lock up if this process holds it (on shutdown, so a standby takes over at once). */
  release(): Promise<void>;
}

/** A store in memory: for tests and for beats whose schedule need not survive a restart. */
export class MemoryScheduleStore implements ScheduleStore {
  /** The records, by entry name (exposed for tests). */
  readonly records = new Map<string, number>();

  async open(): Promise<void> {}

  async lastRuns(names: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const n of names) {
      const v = this.records.get(n);
      if (v !== undefined) out.set(n, v);
    }
    return out;
  }

  async initialize(name: string, at: number): Promise<number> {
    const existing = this.records.get(name);
    if (existing !== undefined) return existing;
    this.records.set(name, at);
    return at;
  }

  async claim(name: string, slot: number): Promise<boolean> {
    const last = this.records.get(name);
    if (last !== undefined && last >= slot) return false;
    this.records.set(name, slot);
    return true;
  }

  async close(): Promise<void> {}

  describe(): string {
    return 'memory';
  }
}
