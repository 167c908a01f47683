/**
 * Periodic task entries: the shape users write (Celery's `beat_schedule`
 * items), and the checked form the scheduler runs. Every check happens when
 * the schedule is loaded, and every error names the entry.
 */
import { type App, type ApplyOptions, ConfigError, pythonRepr, stringifyJson, validateApplyOptions } from '@taskq/core';
import { every } from './interval.js';
import { isSchedule, type Schedule } from './schedule.js';

/** A schedule, or an interval: seconds (`15`) or a string (`'30s'`, `'5m'`) — as Celery accepts a number or a timedelta. */
export type ScheduleLike = Schedule | number | string;

/**
 * Call options for each message an entry sends: any `applyAsync` option but
 * `taskId` (every tick needs its own id). Set `expires` so a backed-up queue
 * does not run stale ticks: seconds from the send, or a date.
 */
export type PeriodicTaskOptions = Omit<ApplyOptions, 'taskId'>;

/** One entry of a beat schedule, as in Celery's `beat_schedule`. */
export interface BeatScheduleEntry {
  /** The task name (a task this app registers, or any name a worker knows — e.g. a Python task). */
  task: string;
  schedule: ScheduleLike;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  options?: PeriodicTaskOptions;
}

/** Entries by name (Celery's `beat_schedule` dict): `{ 'cleanup-nightly': { task, schedule, ... } }`. */
export type BeatSchedule = Record<string, BeatScheduleEntry>;

/** A checked periodic task, as the scheduler runs it. */
export interface PeriodicTask {
  /** Unique name; also the key of its last-run record in the schedule store. */
  readonly name: string;
  readonly task: string;
  readonly schedule: Schedule;
  readonly args: readonly unknown[];
  readonly kwargs: Readonly<Record<string, unknown>>;
  readonly options: Readonly<PeriodicTaskOptions>;
}

/** Turn a {@link ScheduleLike} into a schedule (numbers and strings are intervals). Never throws: see `Schedule.validate()`. */
export function toSchedule(value: ScheduleLike): Schedule {
  if (isSchedule(value)) return value;
  if (typeof value === 'number' || typeof value === 'string') return every(value);
  return {
    kind: 'interval',
    dueSlot: () => undefined,
    nextAfter: () => Number.POSITIVE_INFINITY,
    validate: () => {
      throw new ConfigError(`schedule must be every(…), crontab(…) or a number of seconds, got ${value === null ? 'null' : typeof value}`);
    },
    toString: () => 'invalid',
  };
}

/** The default name of a periodic task added without one: its call, as Celery names it (`tasks.add(2, 2)`). */
export function defaultTaskName(task: string, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): string {
  const parts = [...args.map((a) => pythonRepr(a)), ...Object.entries(kwargs).map(([k, v]) => `${k}=${pythonRepr(v)}`)];
  return `${task}(${parts.join(', ')})`;
}

/**
 * Check one entry and return its runnable form. Throws a {@link ConfigError}
 * that names the entry. Task names are checked against `app.tasks` only when
 * the app registers tasks: a beat process may know only contracts, or
 * schedule tasks that Python workers run.
 */
export function checkEntry(app: App, name: string, entry: BeatScheduleEntry): PeriodicTask {
  const fail = (problem: string, cause?: unknown): never => {
    throw new ConfigError(`beat schedule entry ${JSON.stringify(name)}: ${problem}`, cause === undefined ? undefined : { cause });
  };
  if (typeof name !== 'string' || name === '') fail('an entry needs a non-empty name');
  if (entry === null || typeof entry !== 'object') fail(`expected { task, schedule, args?, kwargs?, options? }, got ${entry === null ? 'null' : typeof entry}`);
  const { task, args = [], kwargs = {}, options = {} } = entry;
  if (typeof task !== 'string' || task === '') fail('needs a task name, e.g. { task: "cleanup.purge", schedule: every(60) }');
  if (app.tasks.size > 0 && !app.tasks.has(task)) {
    fail(`task ${JSON.stringify(task)} is not registered in app ${JSON.stringify(app.name)} (registered: ${app.tasks.names().join(', ')}); check the name`);
  }
  if (entry.schedule === undefined) fail('needs a schedule: every(15), every("5m") or crontab({ minute: 0, hour: 0 })');
  const schedule = toSchedule(entry.schedule);
  try {
    schedule.validate();
  } catch (error) {
    fail((error as Error).message, error);
  }
  if (!Array.isArray(args)) fail(`args must be an array, got ${typeof args}`);
  if (kwargs === null || typeof kwargs !== 'object' || Array.isArray(kwargs)) fail('kwargs must be a plain object');
  if (options === null || typeof options !== 'object') fail('options must be an object');
  if ('taskId' in options) fail('options cannot set taskId: every tick is a new task with its own id');
  try {
    validateApplyOptions(options);
    stringifyJson(args, 'args');
    stringifyJson(kwargs, 'kwargs');
  } catch (error) {
    fail((error as Error).message, error);
  }
  return Object.freeze({ name, task, schedule, args: Object.freeze([...args]), kwargs: Object.freeze({ ...kwargs }), options: Object.freeze({ ...options }) });
}
