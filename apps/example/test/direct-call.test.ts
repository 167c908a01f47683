import { createTestApp } from '@taskq/core/testing';
import { describe, expect, it } from 'vitest';
import { SmtpError } from '../src/tasks/email.js';
import { registerTasks } from '../src/tasks/index.js';

// Calling a task object runs its function in place: no broker, no retries.
const tasks = registerTasks(createTestApp());

describe('calling a task directly', () => {
  it('cleanup.purge counts the sessions older than the threshold', () => {
    expect(tasks.purgeExpired(30)).toEqual({ purged: 6, olderThanDays: 30 });
  });

  it('reports.generate builds the report', async () => {
    const report = await tasks.generateReport('weekly', 250);
    expect(report).toMatchObject({ name: 'weekly', rows: 250 });
    expect(typeof report.generatedAt).toBe('string');
  });

  it('email.send surfaces the SMTP refusal, since only a worker retries', async () => {
    await expect(tasks.sendEmail('ada@example.com', 'Hi', 'Hello')).rejects.toThrow(SmtpError);
  });
});
