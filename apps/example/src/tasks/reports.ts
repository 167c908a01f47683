/**
 * `reports.generate`: a slow, cancellable job. It works in small steps and
 * checks `ctx.signal` between them, so at the soft time limit it stops
 * promptly and fails with SoftTimeLimitExceeded instead of being cut off.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { App, TaskContext } from '@taskq/core';
import { generateReport, type Report } from '../contracts.js';

/** A report that cannot be built from its input. Not retried: the same input fails again. */
export class ReportError extends Error {
  override readonly name = 'ReportError';
}

/** Rows processed per step, and how long a step takes. */
const BATCH = 100;
const STEP_MS = 20;

/** The task function. */
export async function buildReport(ctx: TaskContext, name: string, rows: number): Promise<Report> {
  if (!Number.isInteger(rows) || rows < 0) throw new ReportError(`report ${JSON.stringify(name)}: rows must be a non-negative integer, got ${rows}`);
  let total = 0;
  for (let done = 0; done < rows; done += BATCH) {
    // Rejects with the abort reason (SoftTimeLimitExceeded) once the signal fires.
    await sleep(STEP_MS, undefined, { signal: ctx.signal });
    for (let i = done; i < Math.min(rows, done + BATCH); i++) total += i % 7;
  }
  return { name, rows, total, generatedAt: new Date().toISOString() };
}

/** Register `reports.generate` on `app`. */
export function registerReportTasks(app: App) {
  return {
    generateReport: app.implement(generateReport, buildReport, {
      bind: true,
      softTimeLimit: 5,
      timeLimit: 10,
    }),
  };
}
