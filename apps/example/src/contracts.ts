/**
 * Task contracts: names, argument and result types, and routing defaults.
 * A service that only sends these tasks imports this module and
 * `@taskq/core`, nothing else; the worker implements them in ./tasks.
 */
import { defineTask } from '@taskq/core';

/** Queues the example's tasks are routed to; a worker for the example consumes all of them. */
export const QUEUES = { default: 'celery', email: 'email', reports: 'reports' } as const;

/** What `email.send` returns. */
export interface EmailReceipt {
  messageId: string;
  to: string;
  /** How many delivery attempts it took (1 = first try). */
  attempts: number;
}

/** What `reports.generate` returns. */
export interface Report {
  name: string;
  rows: number;
  total: number;
  generatedAt: string;
}

/** What `cleanup.purge` returns. */
export interface PurgeSummary {
  purged: number;
  olderThanDays: number;
}

/** Send an email: `email.send(to, subject, body)`. Retried automatically when the SMTP server refuses. */
export const sendEmail = defineTask<[to: string, subject: string, body: string], EmailReceipt>('email.send', { queue: QUEUES.email });

/** Build a report of `rows` rows. Bounded by time limits; pass `softTimeLimit` per call to tighten them. */
export const generateReport = defineTask<[name: string, rows: number], Report>('reports.generate', { queue: QUEUES.reports });

/**
 * Purge sessions older than `olderThanDays`. Periodic-shaped (beat will send
 * it on a schedule): idempotent, and it expires if no worker picks it up
 * within a minute, so a backlog does not run stale purges in a burst.
 */
export const purgeExpired = defineTask<[olderThanDays: number], PurgeSummary>('cleanup.purge', { queue: QUEUES.default, expires: 60 });
