/**
 * The example's periodic tasks, declared both of Celery's ways:
 * - `cleanup-nightly`: a beat schedule object (Celery's `beat_schedule`) — purge
 *   month-old sessions every night at 03:00 in the beat's time zone;
 * - `cleanup-heartbeat`: added by a setup hook (Celery's `on_after_configure` +
 *   `add_periodic_task`) — a light purge of year-old sessions every
 *   {@link HEARTBEAT_SECONDS} s, frequent enough that `pnpm example` shows beat
 *   firing. Each tick expires after one interval, so a backlog never runs
 *   stale ticks in a burst.
 *
 * `taskq beat` (or `taskq worker --beat`) in this directory picks them up from
 * the app module.
 */
import { crontab, defineBeatSchedule, every, onBeatSetup, type PeriodicTaskSender } from '@taskq/beat';
import type { App } from '@taskq/core';
import type { ExampleTasks } from './tasks/index.js';

/** Interval of the heartbeat purge, in seconds. */
export const HEARTBEAT_SECONDS = 1;

/** The setup hook: adds the heartbeat. A function of the tasks, so a test can call it with a recording sender. */
export function addPeriodicTasks(tasks: ExampleTasks) {
  return (sender: PeriodicTaskSender): void => {
    sender.addPeriodicTask(every(HEARTBEAT_SECONDS), tasks.purgeExpired.s(365), { name: 'cleanup-heartbeat', options: { expires: HEARTBEAT_SECONDS } });
  };
}

/** Declare the example's periodic tasks on `app`. */
export function registerSchedule(app: App, tasks: ExampleTasks): void {
  defineBeatSchedule(app, {
    'cleanup-nightly': { task: tasks.purgeExpired.taskName, schedule: crontab({ minute: 0, hour: 3 }), args: [30], options: { expires: 3600 } },
  });
  onBeatSetup(app, addPeriodicTasks(tasks));
}
