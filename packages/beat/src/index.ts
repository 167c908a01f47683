/**
 * `@taskq/beat`: periodic tasks for taskq, as Celery beat — interval and
 * crontab schedules, a persistent schedule store, and (with
 * `@taskq/beat/redis`) one sending leader among many beats.
 */
export { Beat, DEFAULT_MAX_INTERVAL } from './beat.js';
export type { BeatOptions, SentTick, TickResult } from './beat.js';
export { FakeClock, systemClock } from './clock.js';
export type { Clock } from './clock.js';
export { CrontabSchedule, crontab } from './crontab.js';
export type { CrontabField, CrontabFields } from './crontab.js';
export { beatDeclarations, defineBeatSchedule, onBeatSetup } from './declare.js';
export type { AddPeriodicTaskOptions, BeatSetupHook, PeriodicTaskSender, SignatureLike } from './declare.js';
export { checkEntry, defaultTaskName, toSchedule } from './entries.js';
export type { BeatSchedule, BeatScheduleEntry, PeriodicTask, PeriodicTaskOptions, ScheduleLike } from './entries.js';
export { DEFAULT_SCHEDULE_FILE, FileScheduleStore } from './file-store.js';
export type { FileScheduleStoreOptions } from './file-store.js';
export { every, IntervalSchedule, parseIntervalSeconds } from './interval.js';
export { createRecordingSender, loadPeriodicTasks } from './load.js';
export type { RecordedPeriodicTask, RecordingSender } from './load.js';
export { isSchedule } from './schedule.js';
export type { Schedule } from './schedule.js';
export { MemoryScheduleStore } from './store.js';
export type { LeaderLock, ScheduleStore } from './store.js';
export { isValidTimezone, resolveTimezone } from './timezone.js';
