import { describe, expect, it } from 'vitest';
import { EncodeError, TaskFailedError } from '../src/errors.js';
import type { TaskContext } from '../src/task.js';
import { createTestApp } from '../src/testing/test-app.js';

class FlakyError extends Error {
  override name = 'FlakyError';
}

const eagerApp = (options: Parameters<typeof createTestApp>[0] = {}) => createTestApp({ taskAlwaysEager: true, ...options });

/** The TaskFailedError a failed eager result rethrows. */
async function failure(result: { get(o: { timeout: number }): Promise<unknown> }): Promise<TaskFailedError> {
  const error = await result.get({ timeout: 1000 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TaskFailedError);
  return error as TaskFailedError;
}

describe('eager mode (taskAlwaysEager)', () => {
  it('runs the task inline and stores its result; nothing is published', async () => {
    const app = eagerApp();
    const add = app.task('math.add', async (a: number, b: number) => a + b);
    const result = await add.delay(2, 3);
    expect(await result.state).toBe('SUCCESS');
    expect(await result.get()).toBe(5);
    expect(await (await app.getBroker()).queueSize('celery')).toBe(0);
  });

  it('hands back the value of a task that ignores its result, so get() does not wait forever', async () => {
    const app = eagerApp();
    const t = app.task('fire.and.forget', () => 'sent', { ignoreResult: true });
    expect(await (await t.delay()).get({ timeout: 1000 })).toBe('sent');
  });

  it('passes kwargs as one trailing object argument', async () => {
    const app = eagerApp();
    const greet = app.task('greet', (name: string, opts?: { greeting?: string }) => `${opts?.greeting ?? 'hi'} ${name}`);
    expect(await (await greet.applyAsync(['ann'], { greeting: 'hello' }, {})).get()).toBe('hello ann');
  });

  it('executes ctx.retry() inline, counting retries in the request', async () => {
    const app = eagerApp();
    const seen: number[] = [];
    const t = app.task(
      'retry.twice',
      (ctx: TaskContext) => {
        seen.push(ctx.request.retries);
        if (ctx.request.retries < 2) ctx.retry({ countdown: 60 });
        return 'ok';
      },
      { bind: true },
    );
    const result = await t.delay();
    expect(await result.get()).toBe('ok');
    expect(seen).toEqual([0, 1, 2]);
  });

  it('hands a context whose parts can be destructured: retry, signal, log, name', async () => {
    const app = eagerApp();
    const seen: unknown[] = [];
    const t = app.task(
      'ctx.destructured',
      ({ retry, signal, log, name, request }: TaskContext) => {
        seen.push([name, signal.aborted, typeof log.info]);
        if (request.retries < 1) retry({ countdown: 60 });
        return request.retries;
      },
      { bind: true },
    );
    expect(await (await t.delay()).get()).toBe(1);
    expect(seen).toEqual([
      ['ctx.destructured', false, 'function'],
      ['ctx.destructured', false, 'function'],
    ]);
  });

  it('hands a context that spreads into a plain object with every part', async () => {
    const app = eagerApp();
    const t = app.task(
      'ctx.spread',
      (ctx: TaskContext) => {
        const copy = { ...ctx, extra: 1 };
        return [copy.request.id === ctx.request.id, copy.name, copy.signal.aborted, typeof copy.log.info, typeof copy.retry, copy.app === ctx.app, copy.extra];
      },
      { bind: true },
    );
    expect(await (await t.delay()).get()).toEqual([true, 'ctx.spread', false, 'function', 'function', true, 1]);
  });

  it('executes autoretryFor retries inline, with retryBackoff', async () => {
    const app = eagerApp();
    let calls = 0;
    const t = app.task(
      'auto.retry',
      () => {
        calls++;
        if (calls < 3) throw new FlakyError('not yet');
        return calls;
      },
      { autoretryFor: [FlakyError], retryBackoff: 2, retryBackoffMax: 30, maxRetries: 5 },
    );
    expect(await (await t.delay()).get()).toBe(3);
  });

  it('does not autoretry errors outside autoretryFor', async () => {
    const app = eagerApp();
    let calls = 0;
    const t = app.task(
      'auto.other',
      () => {
        calls++;
        throw new TypeError('bad input');
      },
      { autoretryFor: [FlakyError] },
    );
    const error = await failure(await t.delay());
    expect(error.excType).toBe('TypeError');
    expect(calls).toBe(1);
  });

  it('fails with the original error once maxRetries is exceeded (ctx.retry with exc)', async () => {
    const app = eagerApp();
    let calls = 0;
    const t = app.task(
      'retry.forever',
      (ctx: TaskContext) => {
        calls++;
        ctx.retry({ exc: new FlakyError(`attempt ${calls}`), countdown: 1 });
      },
      { bind: true, maxRetries: 2 },
    );
    const result = await t.delay();
    const error = await failure(result);
    expect(calls).toBe(3);
    expect(error.excType).toBe('FlakyError');
    expect(error.excMessage).toEqual(['attempt 3']);
    expect(await result.state).toBe('FAILURE');
  });

  it('fails with MaxRetriesExceededError when ctx.retry() has no exc', async () => {
    const app = eagerApp();
    const t = app.task('retry.noexc', (ctx: TaskContext) => ctx.retry({ countdown: 1 }), { bind: true, maxRetries: 1 });
    expect((await failure(await t.delay())).excType).toBe('MaxRetriesExceededError');
  });

  it('fails with the original error once autoretryFor runs out of retries', async () => {
    const app = eagerApp();
    let calls = 0;
    const t = app.task(
      'auto.exhausted',
      () => {
        calls++;
        throw new FlakyError('still down');
      },
      { autoretryFor: [FlakyError], retryBackoff: true, maxRetries: 2 },
    );
    const error = await failure(await t.delay());
    expect(calls).toBe(3);
    expect(error.excType).toBe('FlakyError');
    expect(error.message).toBe('FlakyError: still down');
  });

  it('with taskEagerPropagates, delay() itself throws the task’s own error', async () => {
    const app = eagerApp({ taskEagerPropagates: true });
    const t = app.task('boom', () => {
      throw new FlakyError('boom');
    });
    await expect(t.delay()).rejects.toBeInstanceOf(FlakyError);
  });

  it('a task that throws a non-Error value ends FAILURE NonErrorThrown, with the value in the message', async () => {
    const app = eagerApp();
    const t = app.task('throws.string', () => {
      throw 'just a string';
    });
    const error = await failure(await t.delay());
    expect(error.excType).toBe('NonErrorThrown');
    expect(error.message).toContain('just a string');
  });

  it('aborts the signal at the soft time limit and fails with SoftTimeLimitExceeded', async () => {
    const app = eagerApp();
    let reason: unknown;
    const t = app.task(
      'slow.soft',
      (ctx: TaskContext) =>
        new Promise((_, reject) => {
          ctx.signal.addEventListener('abort', () => {
            reason = ctx.signal.reason;
            reject(new Error('cleaned up after abort'));
          });
        }),
      { bind: true, softTimeLimit: 0.05 },
    );
    const error = await failure(await t.delay());
    expect(error.excType).toBe('SoftTimeLimitExceeded');
    expect((reason as Error).name).toBe('SoftTimeLimitExceeded');
  });

  it('stops a task at the hard time limit with TimeLimitExceeded', async () => {
    const app = eagerApp();
    const t = app.task('slow.hard', () => new Promise(() => {}), { timeLimit: 0.05 });
    const error = await failure(await t.delay());
    expect(error.excType).toBe('TimeLimitExceeded');
    expect(error.excModule).toBe('celery.exceptions');
  });

  it('fails with EncodeError when the return value is not JSON-serialisable', async () => {
    const app = eagerApp();
    const t = app.task('returns.map', () => new Map([[1, 2]]));
    const error = await failure(await t.delay());
    expect(error.excType).toBe(new EncodeError('x').name);
    expect(error.message).toContain('the return value is a Map');
  });

  it('fails an unknown task name sent with sendTask as NotRegistered', async () => {
    const app = eagerApp();
    const result = await app.sendTask('no.such.task', [1]);
    const error = await failure(result);
    expect(error.excType).toBe('NotRegistered');
    expect(error.excModule).toBe('celery.exceptions');
    expect(error.excMessage).toEqual(['no.such.task']);
  });

  it('still refuses bad options and bad arguments before running anything', async () => {
    const app = eagerApp();
    let ran = false;
    const t = app.task('t', (_x: unknown) => {
      ran = true;
    });
    await expect(t.applyAsync([1], { priority: 12 })).rejects.toThrow(/priority/);
    await expect(t.delay(() => 1)).rejects.toThrow(EncodeError);
    expect(ran).toBe(false);
  });
});
