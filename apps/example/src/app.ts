/**
 * The example's app: broker from TASKQ_BROKER_URL (or CELERY_BROKER_URL),
 * else the embedded memory:// broker. `taskq worker` loads this module
 * (package.json names it), so it registers every task; `taskq beat` loads
 * it too and finds the periodic tasks.
 */
import { createApp } from '@taskq/core';
import { registerSchedule } from './schedule.js';
import { registerTasks } from './tasks/index.js';

export const app = createApp({ name: 'example' });

/** The registered tasks, typed: `tasks.sendEmail.delay(...)`. */
export const tasks = registerTasks(app);

// Periodic tasks, for `taskq beat` / `taskq worker --beat` (see ./schedule.ts).
registerSchedule(app, tasks);
