/**
 * `email.send`: delivery through a simulated SMTP server that refuses the
 * first connection for every message (as greylisting servers do), so the
 * automatic retry with backoff is visible in every run.
 */
import { randomUUID } from 'node:crypto';
import type { App, TaskContext } from '@taskq/core';
import { type EmailReceipt, sendEmail } from '../contracts.js';

/** A temporary SMTP failure (4xx): worth retrying. */
export class SmtpError extends Error {
  override readonly name = 'SmtpError';
}

/** Attempts the simulated server refuses before it accepts a message. */
export const REFUSED_ATTEMPTS = 1;

/** The task function. `ctx.request.retries` counts earlier attempts of this message. */
export async function deliverEmail(ctx: TaskContext, to: string, subject: string, _body: string): Promise<EmailReceipt> {
  if (!to.includes('@')) throw new TypeError(`not an email address: ${JSON.stringify(to)}`);
  const attempt = ctx.request.retries + 1;
  if (attempt <= REFUSED_ATTEMPTS) throw new SmtpError(`421 4.7.0 try again later (attempt ${attempt} for ${to})`);
  ctx.log.debug({ to, subject }, 'email accepted by SMTP server');
  return { messageId: `<${randomUUID()}@example.test>`, to, attempts: attempt };
}

/** Register `email.send` on `app`. */
export function registerEmailTasks(app: App) {
  return {
    sendEmail: app.implement(sendEmail, deliverEmail, {
      bind: true,
      autoretryFor: [SmtpError],
      maxRetries: 3,
      // Backoff of 1 s, 2 s, 4 s (with jitter), capped at 5 s: short so the example finishes quickly.
      retryBackoff: 1,
      retryBackoffMax: 5,
    }),
  };
}
