/**
 * Registers every task of the example on an app. A function rather than
 * module-level `app.task(...)` calls: task modules then never import the app
 * module (no import cycle with app.ts, which must load them for the worker),
 * and tests register the same tasks on a fresh test app.
 */
import type { App } from '@taskq/core';
import { registerCleanupTasks } from './cleanup.js';
import { registerEmailTasks } from './email.js';
import { registerReportTasks } from './reports.js';
import { registerWorkflowTasks } from './workflows.js';

/** Register all tasks on `app` and return them, typed, by name. */
export function registerTasks(app: App) {
  return { ...registerEmailTasks(app), ...registerReportTasks(app), ...registerCleanupTasks(app), ...registerWorkflowTasks(app) };
}

export type ExampleTasks = ReturnType<typeof registerTasks>;
