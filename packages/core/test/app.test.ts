import { describe, expect, it } from 'vitest';
import { defineTask } from '../src/contract.js';
import { ConfigError, InvalidTaskOptionsError, TaskAlreadyRegisteredError } from '../src/errors.js';
import { traceTask } from '../src/task-trace.js';
import { createTestApp } from '../src/testing/test-app.js';
import { drain } from './helpers.js';

describe('registering tasks', () => {
  it('keeps tasks in app.tasks by their explicit name', () => {
    const app = createTestApp();
    const b = app.task('b.second', () => 2);
    app.task('a.first', () => 1);
    expect(app.tasks.get('b.second')).toBe(b);
    expect(app.tasks.names()).toEqual(['a.first', 'b.second']);
    expect(b.taskName).toBe('b.second');
  });

  it('refuses a second task with the same name', () => {
    const app = createTestApp();
    app.task('email.send', () => 1);
    expect(() => app.task('email.send', () => 2)).toThrow(TaskAlreadyRegisteredError);
  });

  it('refuses an empty name', () => {
    const app = createTestApp();
    expect(() => app.task('', () => 1)).toThrow(ConfigError);
  });

  it.each([
    ['an unknown option', { retries: 3 }, /unknown option "retries"/],
    ['priority 12', { priority: 12 }, /priority must be an integer from 0 to 9/],
    ['a negative time limit', { timeLimit: -1 }, /timeLimit must be a non-negative number/],
    ['a rate limit that is not a rate', { rateLimit: 'fast' }, /rateLimit "fast" is not a rate/],
  ])('refuses %s with InvalidTaskOptionsError', (_what, options, message) => {
    const app = createTestApp();
    expect(() => app.task('t', () => 1, options as never)).toThrow(InvalidTaskOptionsError);
    expect(() => app.task('t', () => 1, options as never)).toThrow(message);
  });

  it("resolves options with Celery's defaults and parses the rate limit", () => {
    const app = createTestApp();
    const t = app.task('t', () => 1, { rateLimit: '100/m' });
    expect(t.options).toMatchObject({ maxRetries: 3, defaultRetryDelay: 180, retryBackoffMax: 600, retryJitter: true, bind: false });
    expect(t.options.rateLimit).toEqual({ text: '100/m', perSecond: 100 / 60 });
  });
});

describe('sending by name', () => {
  it('sendTask publishes a task this app does not implement', async () => {
    const app = createTestApp();
    const result = await app.sendTask('remote.only', [1], { k: 'v' }, { queue: 'remote' });
    const [d] = await drain(app, 'remote');
    expect(d!.message.headers).toMatchObject({ task: 'remote.only', id: result.id });
    expect(d!.message.body.slice(0, 2)).toEqual([[1], { k: 'v' }]);
  });

  it('uses the configured default queue', async () => {
    const app = createTestApp({ defaultQueue: 'jobs' });
    await app.sendTask('x', []);
    expect(await (await app.getBroker()).queueSize('jobs')).toBe(1);
  });
});

describe('task contracts', () => {
  interface Sent {
    to: string;
    accepted: boolean;
  }
  const sendEmail = defineTask<[to: string, subject: string], Sent>('email.send', { queue: 'email' });

  it('lets a producer without the implementation send the task to the contract’s queue', async () => {
    const producer = createTestApp();
    const result = await producer.send(sendEmail, 'a@b.c', 'hello');
    const [d] = await drain(producer, 'email');
    expect(d!.message.headers).toMatchObject({ task: 'email.send', id: result.id, argsrepr: "('a@b.c', 'hello')" });
  });

  it('runs the implementation registered with implement() and returns its typed result to the producer', async () => {
    const url = `memory://contract-${Math.random()}`;
    const producer = createTestApp({ brokerUrl: url, resultBackend: url });
    const service = createTestApp({ brokerUrl: url, resultBackend: url });
    const impl = service.implement(sendEmail, async (to, _subject) => ({ to, accepted: true }));
    expect(impl.options.queue).toBe('email');

    const result = await producer.sendWith(sendEmail, ['a@b.c', 'hi'], { priority: 2 });
    const [d] = await drain(service, 'email');
    expect(d!.message.properties.priority).toBe(2);
    const outcome = await traceTask(service, d!.message, { hostname: 'svc@test' });
    expect(outcome.kind).toBe('success');
    expect(await result.get({ timeout: 2000 })).toEqual({ to: 'a@b.c', accepted: true });
  });
});

describe('results and shutdown', () => {
  it('app.AsyncResult(id) reads a result stored by anyone on the same backend', async () => {
    const app = createTestApp();
    const t = app.task('t', () => 'done');
    const sent = await t.delay();
    const [d] = await drain(app, 'celery');
    await traceTask(app, d!.message, { hostname: 'w@test' });
    expect(await app.AsyncResult(sent.id).get({ timeout: 1000 })).toBe('done');
  });

  it('describe() masks passwords in the URLs', () => {
    const app = createTestApp({ brokerUrl: 'redis://:secret@localhost:6379/0', resultBackend: 'memory://' });
    expect(app.describe()).toEqual({ broker: 'redis://:***@localhost:6379/0', backend: 'memory://' });
  });

  it('close() lets go of the broker; the next use connects again', async () => {
    const app = createTestApp();
    const first = await app.getBroker();
    await app.close();
    expect(await app.getBroker()).not.toBe(first);
  });
});
