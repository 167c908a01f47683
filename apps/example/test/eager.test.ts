import { EncodeError, TaskFailedError } from '@taskq/core';
import { createTestApp } from '@taskq/core/testing';
import { describe, expect, it } from 'vitest';
import { generateReport, purgeExpired, sendEmail } from '../src/contracts.js';
import { registerTasks } from '../src/tasks/index.js';

// Eager mode runs a sent task at once in this process, retries included: Celery's task_always_eager.
function eagerApp() {
  const app = createTestApp({ taskAlwaysEager: true });
  registerTasks(app);
  return app;
}

describe('eager execution', () => {
  it('email.send succeeds on its automatic retry', async () => {
    const result = await eagerApp().send(sendEmail, 'ada@example.com', 'Welcome', 'Hello');
    const receipt = await result.get();
    expect(receipt).toMatchObject({ to: 'ada@example.com', attempts: 2 });
    expect(await result.state).toBe('SUCCESS');
  });

  it('reports.generate returns the report to the caller', async () => {
    const report = await (await eagerApp().send(generateReport, 'monthly', 300)).get();
    expect(report).toMatchObject({ name: 'monthly', rows: 300, total: 897 });
  });

  it('cleanup.purge returns what it removed', async () => {
    expect(await (await eagerApp().send(purgeExpired, 90)).get()).toEqual({ purged: 2, olderThanDays: 90 });
  });
});

describe('error handling', () => {
  it('a report with bad input fails with its own error type', async () => {
    const result = await eagerApp().send(generateReport, 'broken', -1);
    const error = await result.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskFailedError);
    expect(error).toMatchObject({ excType: 'ReportError', state: 'FAILURE' });
    expect(await result.failed()).toBe(true);
  });

  it('a report past its soft time limit stops and fails with SoftTimeLimitExceeded', async () => {
    const result = await eagerApp().sendWith(generateReport, ['yearly', 1_000_000], { softTimeLimit: 0.05 });
    await expect(result.get()).rejects.toMatchObject({ excType: 'SoftTimeLimitExceeded' });
  });

  it('an invalid address fails at once: only SMTP errors are retried', async () => {
    const result = await eagerApp().send(sendEmail, 'not-an-address', 'Hi', 'Hello');
    await expect(result.get()).rejects.toMatchObject({ excType: 'TypeError' });
  });

  it('arguments JSON cannot carry are refused at send time, and nothing runs', async () => {
    const app = eagerApp();
    await expect(app.send(generateReport, 'nan', Number.NaN)).rejects.toThrow(EncodeError);
  });
});
