import type { TaskContext } from '@taskq/core';
import { describe, expect, it } from 'vitest';
import { createHarness, gate } from './helpers/harness.js';

describe('Worker: time limits (async pool)', () => {
  it('aborts the signal at the soft time limit and stores SoftTimeLimitExceeded', async () => {
    const { app, startWorker, result } = createHarness();
    let signal: AbortSignal | undefined;
    const slow = app.task(
      'test.slow',
      async (ctx: TaskContext) => {
        signal = ctx.signal;
        await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
      },
      { bind: true, softTimeLimit: 0.05 },
    );
    await startWorker();
    const sent = await slow.delay();
    expect(await result(sent.id)).toMatchObject({ status: 'FAILURE', result: { exc_type: 'SoftTimeLimitExceeded' } });
    expect(signal?.aborted).toBe(true);
  });

  it('applies the worker-wide soft limit to tasks that set none', async () => {
    const { app, startWorker, result } = createHarness();
    const slow = app.task(
      'test.slow',
      (ctx: TaskContext) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
      { bind: true },
    );
    await startWorker({ softTimeLimit: 0.05 });
    const sent = await slow.delay();
    expect(await result(sent.id)).toMatchObject({ status: 'FAILURE', result: { exc_type: 'SoftTimeLimitExceeded' } });
  });

  it('frees the slot of a task past its hard limit and marks it TimeLimitExceeded, though its code cannot be killed', async () => {
    const { app, startWorker, result } = createHarness();
    const never = gate();
    const stuck = app.task('test.stuck', () => never.promise, { timeLimit: 0.05 });
    const quick = app.task('test.quick', () => 'ok');
    await startWorker({ concurrency: 1 });
    const first = await stuck.delay();
    const second = await quick.delay();
    expect(await result(first.id)).toMatchObject({ status: 'FAILURE', result: { exc_type: 'TimeLimitExceeded' } });
    expect(await result(second.id)).toMatchObject({ status: 'SUCCESS', result: 'ok' });
    never.open();
  });

  it('warns at start-up that the async pool cannot kill a task at the hard limit', async () => {
    const { logs, startWorker } = createHarness();
    await startWorker({ timeLimit: 60 });
    expect(logs.some((l) => l.level === 40 && /cannot kill a task/.test(l.msg))).toBe(true);
  });
});
