/**
 * The scheduler: wakes when the next entry is due (or every `maxInterval`),
 * sends what is due through the app like any producer, and records each run
 * in the schedule store. With a leader lock, only the lock holder sends.
 *
 * Order of a tick, per due entry: compute the slot (the scheduled instant),
 * claim it in the store — which records it as the last run — then send. A
 * crash between claim and send loses that one tick (at most once, as Celery's
 * beat); it never sends a tick twice.
 */
import { type App, ConfigError, type Env, type Logger, toCeleryIso } from '@taskq/core';
import { type Clock, systemClock } from './clock.js';
import type { BeatSchedule, PeriodicTask } from './entries.js';
import { FileScheduleStore } from './file-store.js';
import { loadPeriodicTasks } from './load.js';
import type { LeaderLock, ScheduleStore } from './store.js';
import { resolveTimezone } from './timezone.js';

/** Celery's default `beat_max_loop_interval`: the longest the loop sleeps, in seconds. */
export const DEFAULT_MAX_INTERVAL = 300;

export interface BeatOptions {
  /** Entries in addition to those declared with `defineBeatSchedule` / `onBeatSetup` (Celery's `beat_schedule`). */
  schedule?: BeatSchedule;
  /** IANA time zone crontabs are read in (default: TASKQ_TIMEZONE, CELERY_TIMEZONE, else UTC). */
  timezone?: string;
  /** Where last runs are kept (default: a {@link FileScheduleStore} at `taskq-beat-schedule.json`). */
  store?: ScheduleStore;
  /** With several beats: only the holder of this lock sends (see `@taskq/beat/redis`). */
  lock?: LeaderLock;
  /** Longest sleep between checks, in seconds (default 300, Celery's). */
  maxInterval?: number;
  /** Time source (tests pass a `FakeClock`). */
  clock?: Clock;
  /** Logger (default: the app's, with `component: 'beat'`). */
  logger?: Logger;
  /** Environment for TASKQ_TIMEZONE / CELERY_TIMEZONE (default: process.env). */
  env?: Env;
  /** Called after each message the beat sent (metrics, demos). */
  onSent?: (sent: SentTick) => void;
}

/** One tick the beat sent. */
export interface SentTick {
  /** Entry name. */
  name: string;
  task: string;
  /** The scheduled instant (epoch ms) this message is for. */
  slot: number;
  taskId: string;
}

/** What one pass of the scheduler did. */
export interface TickResult {
  /** Entries sent in this pass, with their slots. */
  sent: SentTick[];
  /** Milliseconds until the scheduler should look again. */
  sleepMs: number;
  /** False when another process holds the leader lock (nothing was sent). */
  leader: boolean;
}

/** Celery beat for taskq. `await beat.start()` to run it; `await beat.stop()` to end it. */
export class Beat {
  readonly app: App;
  readonly timezone: string;
  readonly store: ScheduleStore;
  readonly lock: LeaderLock | undefined;
  readonly log: Logger;
  private readonly clock: Clock;
  private readonly maxIntervalMs: number;
  private readonly extra: BeatSchedule;
  private readonly onSent: ((sent: SentTick) => void) | undefined;
  private tasks: PeriodicTask[] | undefined;
  private opened = false;
  private leader = false;
  private abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(app: App, options: BeatOptions = {}) {
    this.app = app;
    this.timezone = resolveTimezone(options.timezone, options.env);
    this.log = options.logger ?? app.log.child({ component: 'beat' });
    this.store = options.store ?? new FileScheduleStore(undefined, { logger: this.log });
    this.lock = options.lock;
    this.clock = options.clock ?? systemClock;
    const maxInterval = options.maxInterval ?? DEFAULT_MAX_INTERVAL;
    if (!(maxInterval > 0)) throw new ConfigError(`maxInterval must be more than 0 seconds, got ${maxInterval}`);
    this.maxIntervalMs = maxInterval * 1000;
    this.extra = options.schedule ?? {};
    this.onSent = options.onSent;
  }

  /** The checked periodic tasks (loads them on first call; throws a ConfigError naming a bad entry). */
  async load(): Promise<readonly PeriodicTask[]> {
    this.tasks ??= await loadPeriodicTasks(this.app, this.extra);
    return this.tasks;
  }

  /** True while this process holds the leader lock (always true without a lock, once started). */
  get isLeader(): boolean {
    return this.leader;
  }

  /**
   * One pass: (re)take the lock, send every due entry, and say how long to
   * sleep. The loop calls it; tests call it directly with a fake clock.
   */
  async tick(): Promise<TickResult> {
    const tasks = await this.load();
    if (!this.opened) {
      await this.store.open();
      this.opened = true;
    }
    const renewMs = this.lock ? Math.max(10, Math.floor(this.lock.ttlMs / 3)) : Number.POSITIVE_INFINITY;
    if (this.lock) {
      const leader = await this.lock.acquire();
      if (leader !== this.leader) {
        if (leader) this.log.info({ store: this.store.describe() }, 'beat: this process is now the leader and sends periodic tasks');
        else this.log.warn('beat: lost the leader lock; standing by');
      }
      this.leader = leader;
      if (!leader) return { sent: [], sleepMs: Math.min(renewMs, this.maxIntervalMs), leader: false };
    } else {
      this.leader = true;
    }

    const now = this.clock.now();
    const sent: TickResult['sent'] = [];
    const lastRuns = await this.store.lastRuns(tasks.map((t) => t.name));
    let nextDue = Number.POSITIVE_INFINITY;
    for (const entry of tasks) {
      let last = lastRuns.get(entry.name);
      last ??= await this.store.initialize(entry.name, now);
      const slot = entry.schedule.dueSlot(last, now, this.timezone);
      if (slot !== undefined) {
        last = slot;
        if (await this.store.claim(entry.name, slot)) {
          const taskId = await this.send(entry, slot);
          if (taskId !== undefined) {
            const tick = { name: entry.name, task: entry.task, slot, taskId };
            sent.push(tick);
            this.onSent?.(tick);
          }
        } else {
          this.log.debug({ entry: entry.name, slot: new Date(slot).toISOString() }, 'beat: tick already claimed by another beat');
        }
      }
      nextDue = Math.min(nextDue, entry.schedule.nextAfter(last, this.timezone));
    }
    const untilDue = Math.max(0, nextDue - this.clock.now());
    return { sent, sleepMs: Math.min(untilDue, this.maxIntervalMs, renewMs), leader: true };
  }

  /** Send one claimed tick; a failure is logged, not thrown (the next tick is not held up). */
  private async send(entry: PeriodicTask, slot: number): Promise<string | undefined> {
    const at = toCeleryIso(new Date(slot));
    // The entry and slot travel as headers: logs and tests can tell ticks apart; Celery ignores unknown headers.
    const headers = { ...entry.options.headers, taskq_beat_entry: entry.name, taskq_beat_slot: at };
    try {
      const result = await this.app.sendTask(entry.task, [...entry.args], { ...entry.kwargs }, { ...entry.options, headers });
      this.log.info({ entry: entry.name, task: entry.task, taskId: result.id, slot: at }, `Scheduler: Sending due task ${entry.name} (${entry.task})`);
      return result.id;
    } catch (error) {
      this.log.error({ err: error, entry: entry.name, task: entry.task, slot: at }, `beat: could not send ${entry.name} (${entry.task}); this tick is skipped`);
      return undefined;
    }
  }

  /**
   * Load and check the schedule, then run the loop in the background.
   * Resolves once the schedule is loaded and the first pass has run; a bad
   * schedule rejects here.
   */
  async start(): Promise<void> {
    if (this.loop) return;
    const tasks = await this.load();
    this.abort = new AbortController();
    this.log.info(
      { timezone: this.timezone, store: this.store.describe(), entries: tasks.map((t) => `${t.name}: ${t.task} ${t.schedule}`) },
      `beat: starting with ${tasks.length} periodic task${tasks.length === 1 ? '' : 's'}`,
    );
    const first = await this.safeTick();
    this.loop = this.run(first);
  }

  /** The loop's promise: settles when the beat stops. */
  get stopped(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  private async run(firstSleep: number): Promise<void> {
    const signal = this.abort.signal;
    let sleepMs = firstSleep;
    while (!signal.aborted) {
      await this.clock.sleep(sleepMs, signal);
      if (signal.aborted) break;
      sleepMs = await this.safeTick();
    }
  }

  /** A pass whose errors (store or lock unreachable) are logged; the loop retries soon. */
  private async safeTick(): Promise<number> {
    try {
      return (await this.tick()).sleepMs;
    } catch (error) {
      this.log.error({ err: error }, 'beat: scheduler pass failed; retrying');
      return Math.min(5000, this.maxIntervalMs);
    }
  }

  /** Stop the loop, give up the lock (a standby takes over at once) and close the store. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    this.loop = undefined;
    if (this.lock && this.leader) await this.lock.release().catch((error) => this.log.warn({ err: error }, 'beat: could not release the leader lock'));
    this.leader = false;
    if (this.opened) await this.store.close();
    this.opened = false;
  }
}
