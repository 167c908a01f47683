import { describe, expect, it } from 'vitest';
import { EncodeError, InvalidTaskOptionsError, Retry } from '../src/errors.js';
import type { TaskContext } from '../src/task.js';
import { createTestApp } from '../src/testing/test-app.js';
import { drain } from './helpers.js';

describe('calling a task directly', () => {
  it('runs the function and returns its value, without a broker', () => {
    const app = createTestApp();
    const add = app.task('math.add', (a: number, b: number) => a + b);
    expect(add(2, 3)).toBe(5);
  });

  it('gives a bound task a context with its name and a direct-call request', () => {
    const app = createTestApp();
    const who = app.task('who', (ctx: TaskContext, x: number) => ({ name: ctx.name, id: ctx.request.id, x, aborted: ctx.signal.aborted }), { bind: true });
    expect(who(7)).toEqual({ name: 'who', id: 'direct-call', x: 7, aborted: false });
  });

  it('lets ctx.retry() throw Retry, as it would in a worker', () => {
    const app = createTestApp();
    const flaky = app.task('flaky', (ctx: TaskContext) => ctx.retry({ countdown: 5 }), { bind: true });
    expect(() => flaky()).toThrow(Retry);
  });
});

describe('delay and applyAsync', () => {
  it('delay() publishes the call to the default queue and returns its AsyncResult', async () => {
    const app = createTestApp();
    const add = app.task('math.add', (a: number, b: number) => a + b);
    const result = await add.delay(2, 3);
    const [d] = await drain(app, 'celery');
    expect(d!.message.headers).toMatchObject({ task: 'math.add', id: result.id, argsrepr: '(2, 3)', eta: null, retries: 0 });
    expect(d!.message.body).toEqual([[2, 3], {}, { callbacks: null, errbacks: null, chain: null, chord: null }]);
    expect(d!.message.properties.reply_to).toBe(app.oid);
  });

  it('applyAsync(args, options) applies the options and sends no kwargs', async () => {
    const app = createTestApp();
    const add = app.task('math.add', (a: number, b: number) => a + b);
    const result = await add.applyAsync([2, 3], { countdown: 10, priority: 7, taskId: 'fixed-id', headers: { 'x-trace': 't1' } });
    const [d] = await drain(app, 'celery');
    expect(result.id).toBe('fixed-id');
    expect(d!.message.headers.id).toBe('fixed-id');
    expect(d!.message.headers.eta).toMatch(/\+00:00$/);
    expect(d!.message.headers['x-trace']).toBe('t1');
    expect(d!.message.properties.priority).toBe(7);
    expect(d!.message.body[1]).toEqual({});
  });

  it('applyAsync(args, kwargs, options) sends keyword arguments', async () => {
    const app = createTestApp();
    const send = app.task('email.send', (to: string, opts?: { subject?: string }) => `${to}:${opts?.subject}`);
    await send.applyAsync(['a@b.c'], { subject: 'hi' }, { queue: 'email' });
    const [d] = await drain(app, 'email');
    expect(d!.message.body[0]).toEqual(['a@b.c']);
    expect(d!.message.body[1]).toEqual({ subject: 'hi' });
    expect(d!.message.headers.kwargsrepr).toBe("{'subject': 'hi'}");
  });

  it('routes to the task’s default queue, and a call’s queue wins over it', async () => {
    const app = createTestApp();
    const report = app.task('reports.build', () => 1, { queue: 'reports' });
    await report.delay();
    await report.applyAsync([], { queue: 'urgent' });
    expect(await (await app.getBroker()).queueSize('reports')).toBe(1);
    expect(await (await app.getBroker()).queueSize('urgent')).toBe(1);
  });

  it('carries the task’s time limits, priority, expiry and ignoreResult in the message', async () => {
    const app = createTestApp();
    const t = app.task('limited', () => 1, { timeLimit: 30, softTimeLimit: 20, priority: 4, expires: 60, ignoreResult: true });
    await t.delay();
    const [d] = await drain(app, 'celery');
    expect(d!.message.headers.timelimit).toEqual([30, 20]);
    expect(d!.message.headers.expires).toMatch(/\+00:00$/);
    expect(d!.message.headers.ignore_result).toBe(true);
    expect(d!.message.properties).toMatchObject({ priority: 4, expiration: '60000' });
  });

  it('makes a signature with s() that sends the same call later', async () => {
    const app = createTestApp();
    const add = app.task('math.add', (a: number, b: number) => a + b);
    const sig = add.s(1, 2).set({ queue: 'later' });
    expect(sig.toDict()).toMatchObject({ task: 'math.add', args: [1, 2], options: { queue: 'later' }, immutable: false });
    await sig.delay();
    const [d] = await drain(app, 'later');
    expect(d!.message.body[0]).toEqual([1, 2]);
  });
});

describe('bad calls are refused before anything is sent', () => {
  it.each([
    ['priority 12', { priority: 12 }, /priority must be an integer from 0 to 9/],
    ['a negative countdown', { countdown: -1 }, /countdown must be a non-negative number/],
    ['both eta and countdown', { countdown: 5, eta: new Date() }, /either countdown or eta/],
    ['an eta that is not a date', { eta: 'tomorrow' }, /eta must be a Date or an ISO-8601 string/],
    ['an unknown option (a kwarg passed as options)', { subject: 'hi' }, /unknown option "subject".*applyAsync\(args, kwargs, options\)/],
  ])('%s → InvalidTaskOptionsError, and the queue stays empty', async (_what, options, message) => {
    const app = createTestApp();
    const t = app.task('t', (_x: number) => 1);
    const attempt = t.applyAsync([1], options as never);
    await expect(attempt).rejects.toThrow(InvalidTaskOptionsError);
    await expect(t.applyAsync([1], options as never)).rejects.toThrow(message);
    expect(await (await app.getBroker()).queueSize('celery')).toBe(0);
  });

  it.each([
    ['a function', [() => 1], /args\[0\] is a function/],
    ['a Map', [new Map()], /args\[0\] is a Map/],
    ['a cycle', (() => {
      const o: Record<string, unknown> = {};
      o.self = o;
      return [o];
    })(), /args\[0\]\.self refers back to itself/],
  ])('rejects %s in the arguments with EncodeError at delay(), and nothing is sent', async (_what, args, message) => {
    const app = createTestApp();
    const t = app.task('t', (_x: unknown) => 1);
    const error = await t.delay(args[0]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EncodeError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain('Nothing was sent');
    expect(await (await app.getBroker()).queueSize('celery')).toBe(0);
  });

  it('rejects a non-serialisable keyword argument with EncodeError naming it', async () => {
    const app = createTestApp();
    const t = app.task('t', (_x: number, _opts?: { when: unknown }) => 1);
    await expect(t.applyAsync([1], { when: Symbol('now') } as never, {})).rejects.toThrow(/kwargs\.when is a symbol/);
    expect(await (await app.getBroker()).queueSize('celery')).toBe(0);
  });
});
