/** Gather an app's periodic tasks from every declaration, run the setup hooks, check everything. */
import type { App } from '@taskq/core';
import { type AddPeriodicTaskOptions, beatDeclarations, type PeriodicTaskSender, periodicEntry, type SignatureLike } from './declare.js';
import { type BeatSchedule, type BeatScheduleEntry, checkEntry, type PeriodicTask, type ScheduleLike, toSchedule } from './entries.js';

/** A periodic task as a setup hook registered it (before checks): what {@link createRecordingSender} records. */
export interface RecordedPeriodicTask {
  name: string;
  /** The schedule (numbers and strings already turned into `every(…)`). */
  schedule: ReturnType<typeof toSchedule>;
  /** The signature's parts: task name, args, kwargs and the merged call options. */
  task: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  options: NonNullable<BeatScheduleEntry['options']>;
}

/** A sender that only records what a setup hook adds; for tests, no broker needed. */
export interface RecordingSender extends PeriodicTaskSender {
  /** Every periodic task added, in order. */
  readonly tasks: RecordedPeriodicTask[];
}

/**
 * A {@link PeriodicTaskSender} that records: pass it to a setup function in a
 * test and assert the periodic tasks it added (name, schedule, signature).
 */
export function createRecordingSender(app?: App): RecordingSender {
  const tasks: RecordedPeriodicTask[] = [];
  return {
    app,
    tasks,
    addPeriodicTask(schedule: ScheduleLike, signature: SignatureLike, options?: AddPeriodicTaskOptions): void {
      const { name, entry } = periodicEntry(schedule, signature, options);
      tasks.push({ name, schedule: toSchedule(entry.schedule), task: entry.task, args: entry.args ?? [], kwargs: entry.kwargs ?? {}, options: entry.options ?? {} });
    },
  };
}

/**
 * All periodic tasks of `app`: its declared schedules, then `extra` (the
 * beat's own `schedule` option), then what setup hooks add. A later entry of
 * the same name replaces an earlier one (Celery's behaviour). Throws a
 * ConfigError naming the first bad entry.
 */
export async function loadPeriodicTasks(app: App, extra: BeatSchedule = {}): Promise<PeriodicTask[]> {
  const merged = new Map<string, BeatScheduleEntry>();
  const declared = beatDeclarations(app);
  for (const schedule of [...declared.schedules, extra]) {
    for (const [name, entry] of Object.entries(schedule)) merged.set(name, entry);
  }
  const sender: PeriodicTaskSender = {
    app,
    addPeriodicTask(schedule, signature, options) {
      const { name, entry } = periodicEntry(schedule, signature, options);
      merged.set(name, entry);
    },
  };
  for (const hook of declared.hooks) await hook(sender);
  return [...merged].map(([name, entry]) => checkEntry(app, name, entry));
}
