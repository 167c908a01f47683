import type { TaskContext } from '@taskq/core';
import { describe, expect, it } from 'vitest';
import { createHarness } from './helpers/harness.js';

describe('Worker: retries', () => {
  it('republishes a retried task with retries + 1 and an eta, until it succeeds', async () => {
    const { app, startWorker, result } = createHarness();
    const seen: Array<{ retries: number; eta: string | null }> = [];
    const flaky = app.task(
      'test.flaky',
      (ctx: TaskContext) => {
        seen.push({ retries: ctx.request.retries, eta: ctx.request.eta });
        if (ctx.request.retries < 2) ctx.retry({ countdown: 0.05 });
        return 'done';
      },
      { bind: true },
    );
    await startWorker();
    const sent = await flaky.delay();
    const meta = await result(sent.id);
    expect(meta).toMatchObject({ status: 'SUCCESS', result: 'done', parent_id: sent.id });
    expect(seen.map((s) => s.retries)).toEqual([0, 1, 2]);
    expect(seen[0]!.eta).toBeNull();
    expect(seen[1]!.eta).toMatch(/^\d{4}-\d\d-\d\dT.*\+00:00$/);
    expect(seen[2]!.eta).toMatch(/^\d{4}-\d\d-\d\dT.*\+00:00$/);
  });

  it('retries on an error listed in autoretryFor, then succeeds', async () => {
    const { app, startWorker, result } = createHarness();
    class SmtpError extends Error {}
    let attempts = 0;
    const send = app.task(
      'email.send',
      () => {
        attempts++;
        if (attempts < 3) throw new SmtpError('server busy');
        return 'sent';
      },
      { autoretryFor: [SmtpError], maxRetries: 3, defaultRetryDelay: 0.05 },
    );
    await startWorker();
    const sent = await send.delay();
    expect(await result(sent.id)).toMatchObject({ status: 'SUCCESS', result: 'sent' });
    expect(attempts).toBe(3);
  });

  it('fails with the original error once autoretryFor runs out of retries', async () => {
    const { app, startWorker, result } = createHarness();
    class SmtpError extends Error {
      override name = 'SmtpError';
    }
    let attempts = 0;
    const send = app.task(
      'email.send',
      () => {
        attempts++;
        throw new SmtpError('server down');
      },
      { autoretryFor: [SmtpError], maxRetries: 2, defaultRetryDelay: 0.05 },
    );
    await startWorker();
    const sent = await send.delay();
    expect(await result(sent.id)).toMatchObject({ status: 'FAILURE', result: { exc_type: 'SmtpError', exc_message: ['server down'] } });
    expect(attempts).toBe(3);
  });

  it('logs each retry with the task id and name', async () => {
    const { app, logs, startWorker, result } = createHarness();
    const once = app.task('test.once', (ctx: TaskContext) => (ctx.request.retries === 0 ? ctx.retry({ countdown: 0.01 }) : 'ok'), { bind: true });
    await startWorker();
    const sent = await once.delay();
    await result(sent.id);
    const retryLine = logs.find((l) => l.taskId === sent.id && /retry/.test(l.msg));
    expect(retryLine).toMatchObject({ taskName: 'test.once', retries: 1, countdown: 0.01 });
  });
});
