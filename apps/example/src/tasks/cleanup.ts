/**
 * `cleanup.purge`: a periodic-shaped task (beat will schedule it). It takes
 * only a threshold, is safe to run twice, and reports what it removed.
 */
import type { App } from '@taskq/core';
import { type PurgeSummary, purgeExpired } from '../contracts.js';

/** Age in days of the simulated sessions store; a stand-in for a database table. */
const SESSION_AGES_DAYS = [1, 3, 8, 15, 31, 45, 60, 90, 120, 400];

/** The task function. */
export function purgeSessions(olderThanDays: number): PurgeSummary {
  if (!(olderThanDays >= 0)) throw new RangeError(`olderThanDays must be >= 0, got ${olderThanDays}`);
  const purged = SESSION_AGES_DAYS.filter((age) => age > olderThanDays).length;
  return { purged, olderThanDays };
}

/** Register `cleanup.purge` on `app`. */
export function registerCleanupTasks(app: App) {
  return { purgeExpired: app.implement(purgeExpired, purgeSessions) };
}
