import { describe, expect, it } from 'vitest';
import { defineTask } from '../src/contract.js';
import { EncodeError, InvalidTaskOptionsError } from '../src/errors.js';
import { createTestApp } from '../src/testing/test-app.js';
import { drain } from './helpers.js';

describe('app.sendMany', () => {
  it('sends one message per args array, in order, each with its own id', async () => {
    const app = createTestApp();
    const add = app.task('math.add', (a: number, b: number) => a + b);
    const results = await app.sendMany(add, [
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const got = await drain(app, 'celery', 3);
    expect(got.map((d) => d.message.body[0])).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(got.map((d) => d.message.headers.id)).toEqual(results.map((r) => r.id));
    expect(new Set(results.map((r) => r.id)).size).toBe(3);
    await app.close();
  });

  it("applies the options and a contract's defaults to every call", async () => {
    const app = createTestApp();
    const report = defineTask<[string], string>('reports.build', { queue: 'reports' });
    await app.sendMany(report, [['a'], ['b']], { priority: 3 });
    const got = await drain(app, 'reports', 2);
    expect(got.map((d) => d.message.properties.priority)).toEqual([3, 3]);
    await app.close();
  });

  it('sends nothing when one call cannot be encoded', async () => {
    const app = createTestApp();
    const echo = app.task('echo', (v: unknown) => v);
    await expect(app.sendMany(echo, [[1], [() => 2]])).rejects.toThrow(EncodeError);
    expect(await (await app.getBroker()).queueSize('celery')).toBe(0);
    await app.close();
  });

  it('refuses a taskId, which would give every call the same id', async () => {
    const app = createTestApp();
    await expect(app.sendMany('echo', [[1]], { taskId: 'x' })).rejects.toThrow(InvalidTaskOptionsError);
    await app.close();
  });

  it('runs each call in eager mode', async () => {
    const app = createTestApp({ taskAlwaysEager: true });
    const double = app.task('double', (n: number) => n * 2);
    const results = await app.sendMany(double, [[1], [2]]);
    expect(await Promise.all(results.map((r) => r.get()))).toEqual([2, 4]);
  });
});
