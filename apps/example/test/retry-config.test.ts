import { createTestApp } from '@taskq/core/testing';
import { describe, expect, it } from 'vitest';
import { SmtpError } from '../src/tasks/email.js';
import { registerTasks } from '../src/tasks/index.js';

const tasks = registerTasks(createTestApp());

describe('retry and time-limit configuration', () => {
  it('email.send retries SMTP errors automatically, up to 3 times', () => {
    expect(tasks.sendEmail.options.autoretryFor).toEqual([SmtpError]);
    expect(tasks.sendEmail.options.maxRetries).toBe(3);
  });

  it('email.send backs off exponentially from 1 s, capped at 5 s, with jitter', () => {
    expect(tasks.sendEmail.options).toMatchObject({ retryBackoff: 1, retryBackoffMax: 5, retryJitter: true });
  });

  it('reports.generate has a soft limit before its hard limit', () => {
    expect(tasks.generateReport.options).toMatchObject({ softTimeLimit: 5, timeLimit: 10, bind: true });
  });

  it('cleanup.purge expires after a minute, from its contract', () => {
    expect(tasks.purgeExpired.options.expires).toBe(60);
  });

  it('cleanup.purge does not retry', () => {
    expect(tasks.purgeExpired.options.autoretryFor).toEqual([]);
  });
});
