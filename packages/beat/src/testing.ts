/** `@taskq/beat/testing`: helpers to test schedules and setup hooks without a broker or real time. */
export { FakeClock } from './clock.js';
export { createRecordingSender } from './load.js';
export type { RecordedPeriodicTask, RecordingSender } from './load.js';
export { MemoryScheduleStore } from './store.js';
