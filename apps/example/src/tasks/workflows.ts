/**
 * Tasks of the example's workflows: a report built as a chord (fetch the
 * parts in parallel, then merge them) and an email sent as a chain (render,
 * then send the rendered draft).
 */
import { randomUUID } from 'node:crypto';
import type { App } from '@taskq/core';
import { QUEUES } from '../contracts.js';

/** One section of a report, as fetched by `reports.fetch_part`. */
export interface ReportPart {
  section: string;
  rows: number;
}

/** The merged report. */
export interface MergedReport {
  sections: string[];
  rows: number;
}

/** A rendered email, ready to send. */
export interface EmailDraft {
  to: string;
  subject: string;
  body: string;
}

/** Register the workflow tasks on `app`. */
export function registerWorkflowTasks(app: App) {
  return {
    fetchPart: app.task('reports.fetch_part', (section: string): ReportPart => ({ section, rows: section.length * 10 }), { queue: QUEUES.reports }),
    mergeReport: app.task(
      'reports.merge',
      (parts: ReportPart[]): MergedReport => ({ sections: parts.map((p) => p.section), rows: parts.reduce((n, p) => n + p.rows, 0) }),
      { queue: QUEUES.reports },
    ),
    renderEmail: app.task('email.render', (to: string, template: string): EmailDraft => ({ to, subject: `Your ${template}`, body: `Hello ${to}, here is your ${template}.` }), {
      queue: QUEUES.email,
    }),
    sendDraft: app.task('email.send_draft', (draft: EmailDraft) => ({ messageId: `<${randomUUID()}@example.test>`, to: draft.to, subject: draft.subject }), {
      queue: QUEUES.email,
    }),
  };
}
