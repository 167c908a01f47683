/** Workflows run by a real worker on memory://: the worker sends each next step. */
import { chain, chord, chunks, group, map, TaskFailedError } from '@taskq/core';
import { describe, expect, it } from 'vitest';
import { createHarness, until } from './helpers/harness.js';

function setup() {
  const h = createHarness();
  const { app } = h;
  const add = app.task('interop.add', (a: number, b: number) => a + b);
  const mul = app.task('math.mul', (a: number, b: number) => a * b);
  const double = app.task('math.double', (a: number) => a * 2);
  const sum = app.task('math.sum', (xs: number[]) => xs.reduce((a, b) => a + b, 0));
  const fail = app.task('math.fail', (m: string): number => {
    throw new RangeError(m);
  });
  const seen: unknown[][] = [];
  const spy = app.task('math.spy', (...args: unknown[]) => {
    seen.push(args);
    return null;
  });
  return { ...h, add, mul, double, sum, fail, spy, seen };
}

describe('workflows on a worker', () => {
  it('runs a chain; the next step has parent_id = previous, root_id = first (as the chain-second fixture)', async () => {
    const { app, startWorker, add, mul } = setup();
    await startWorker({ concurrency: 2 });
    const result = await chain(add.s(1, 2), mul.s(10), add.s(5)).applyAsync();
    expect(await result.get({ timeout: 5000 })).toBe(35);
    const last = await (await app.getBackend()).get(result.id);
    expect(last?.parent_id).toBeDefined();
    const middle = await (await app.getBackend()).get(last!.parent_id as string);
    expect(middle?.result).toBe(30);
  });

  it('stops a chain at a failed step, fails the rest and runs link_error with the failed id', async () => {
    const { startWorker, add, fail, mul, spy, seen } = setup();
    await startWorker();
    const result = await chain(add.s(1, 2), fail.si('boom'), mul.s(2)).onError(spy.s()).applyAsync();
    const error = (await result.get({ timeout: 5000 }).catch((e: unknown) => e)) as TaskFailedError;
    expect(error).toBeInstanceOf(TaskFailedError);
    expect(error.excType).toBe('RangeError');
    await until(() => seen.length === 1, 5000, 'the errback to run');
    expect(seen[0]).toHaveLength(1);
  });

  it('applies link callbacks with the result', async () => {
    const { startWorker, add, spy, seen } = setup();
    await startWorker();
    await add.s(2, 3).link(spy.s('x')).delay();
    await until(() => seen.length === 1, 5000, 'the callback to run');
    expect(seen[0]).toEqual([5, 'x']);
  });

  it('collects a group', async () => {
    const { startWorker, add } = setup();
    await startWorker({ concurrency: 4 });
    const result = await group([add.s(1, 1), add.s(2, 2), add.s(3, 3)]).applyAsync();
    expect(await result.get({ timeout: 5000 })).toEqual([2, 4, 6]);
    expect(await result.completedCount()).toBe(3);
  });

  it('fires a chord once the header finished, results in header order', async () => {
    const { startWorker, add, sum, mul } = setup();
    await startWorker({ concurrency: 4 });
    const result = await chord([add.s(1, 1), mul.s(5, 5), add.s(0, 1)], sum.s()).applyAsync();
    expect(await result.get({ timeout: 5000 })).toBe(28);
  });

  it('fails a chord body with ChordError when a header task failed', async () => {
    const { startWorker, add, fail, sum } = setup();
    await startWorker({ concurrency: 2 });
    const result = await chord([add.s(1, 1), fail.s('bad')], sum.s()).applyAsync();
    const error = (await result.get({ timeout: 5000 }).catch((e: unknown) => e)) as TaskFailedError;
    expect(error.excType).toBe('ChordError');
  });

  it('runs celery.map and chunks', async () => {
    const { startWorker, add, double } = setup();
    await startWorker({ concurrency: 2 });
    // As Celery's celery.map: the task is called with each item alone (the signature's own args are not used).
    expect(await (await map(double.s(), [1, 2, 3]).delay()).get({ timeout: 5000 })).toEqual([2, 4, 6]);
    const parts = await chunks(add.s(), [[1, 2], [3, 4], [5, 6]], 2).applyAsync();
    expect(await parts.get({ timeout: 5000 })).toEqual([[3, 7], [11]]);
  });
});
