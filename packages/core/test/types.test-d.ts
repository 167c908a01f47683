import { describe, expectTypeOf, it } from 'vitest';
import type { AsyncResult } from '../src/async-result.js';
import { defineTask } from '../src/contract.js';
import type { TaskContext } from '../src/task.js';
import { createTestApp } from '../src/testing/test-app.js';

const app = createTestApp();

describe('types flow from the task function', () => {
  it('types delay() with the function’s parameters', () => {
    const add = app.task('math.add', (a: number, b: number) => a + b);
    expectTypeOf(add.delay).parameters.toEqualTypeOf<[a: number, b: number]>();
    // @ts-expect-error a string is not a number
    void add.delay(1, 'two');
    // @ts-expect-error too few arguments
    void add.delay(1);
  });

  it('types a direct call like the function itself', () => {
    const add = app.task('math.add2', (a: number, b: number) => a + b);
    expectTypeOf(add(1, 2)).toEqualTypeOf<number>();
  });

  it('makes get() resolve to the awaited return type', () => {
    const load = app.task('load', async (id: string) => ({ id, size: 3 }));
    expectTypeOf(load.delay('x')).resolves.toEqualTypeOf<AsyncResult<{ id: string; size: number }>>();
    expectTypeOf<ReturnType<AsyncResult<{ id: string; size: number }>['get']>>().resolves.toEqualTypeOf<{ id: string; size: number }>();
  });

  it('leaves the context out of a bound task’s call signature', () => {
    const bound = app.task('bound', (ctx: TaskContext, n: number) => ctx.request.retries + n, { bind: true });
    expectTypeOf(bound.delay).parameters.toEqualTypeOf<[n: number]>();
  });

  it('types applyAsync’s args tuple and options', () => {
    const add = app.task('math.add3', (a: number, b: number) => a + b);
    void add.applyAsync([1, 2], { countdown: 5 });
    void add.applyAsync([1, 2], { extra: true }, { queue: 'q' });
    // @ts-expect-error the args tuple must match
    void add.applyAsync(['1', 2]);
  });
});

describe('task contracts', () => {
  const sendEmail = defineTask<[to: string, subject: string], { accepted: boolean }>('email.send');

  it('types app.send() with the contract’s arguments and result', () => {
    expectTypeOf(app.send(sendEmail, 'a@b.c', 'hi')).resolves.toEqualTypeOf<AsyncResult<{ accepted: boolean }>>();
    // @ts-expect-error the subject is missing
    void app.send(sendEmail, 'a@b.c');
  });

  it('accepts an implementation that matches, sync or async', () => {
    app.implement(sendEmail, (_to, _subject) => ({ accepted: true }));
    app.implement(sendEmail, async (to: string) => ({ accepted: to.length > 0 }));
  });

  it('refuses an implementation whose types do not match the contract', () => {
    // @ts-expect-error the result lacks `accepted`
    app.implement(sendEmail, (_to: string, _subject: string) => ({ ok: true }));
    // @ts-expect-error the first argument is a string in the contract
    app.implement(sendEmail, (_to: number, _subject: string) => ({ accepted: true }));
  });
});
