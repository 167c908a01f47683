/**
 * Workflows that cross between taskq and Python Celery over Redis: a chain
 * whose steps alternate, a group started in Python collected in TS, and
 * chords whose header and callback run on different sides (the chord
 * counters in Redis are shared).
 */
import { execFile } from 'node:child_process';
import { type App, chain, chord, createApp, createLogger, GroupResult, group, parseJson, TaskFailedError } from '@taskq/core';
import { Worker } from '@taskq/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, PYTHON_DIR, type PythonWorker, startPythonWorker } from '../src/python.js';
import { redisTransport as transport, uniqueQueue } from '../src/transports.js';

const tsQueue = uniqueQueue('canvas-ts');
const pyQueue = uniqueQueue('canvas-py');

/** Run python/canvas.py and parse the JSON line it prints. */
function pythonCanvas(args: string[]): Promise<{ group_id: string; task_ids: string[]; body_id?: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, CELERY_BROKER_URL: transport.py.brokerUrl, CELERY_RESULT_BACKEND: transport.py.backendUrl, PYTHONDONTWRITEBYTECODE: '1' };
    execFile(PYTHON, [`${PYTHON_DIR}canvas.py`, ...args], { env, cwd: PYTHON_DIR, timeout: 60_000 }, (error, stdout, stderr) => {
      try {
        resolve(parseJson(stdout.trim().split('\n').pop() ?? '') as { group_id: string; task_ids: string[]; body_id?: string });
      } catch {
        reject(new Error(`canvas.py printed no JSON (${error?.message}):\n${stdout}\n${stderr}`));
      }
    });
  });
}

let app: App;
let worker: Worker;
let python: PythonWorker;

beforeAll(async () => {
  app = createApp({ name: 'canvas-interop', brokerUrl: transport.brokerUrl, resultBackend: transport.backendUrl, logger: createLogger(process.env.TASKQ_LOG_LEVEL ?? 'silent'), env: {} });
  app.task('ts.mul', (a: number, b: number) => a * b, { queue: tsQueue });
  app.task('ts.sum', (xs: number[]) => xs.reduce((a, b) => a + b, 0), { queue: tsQueue });
  app.task('ts.fail', (m: string): number => {
    throw new TypeError(m);
  }, { queue: tsQueue });
  worker = new Worker(app, { queues: [tsQueue], concurrency: 4 });
  [python] = await Promise.all([startPythonWorker(transport.py, [pyQueue]), worker.start()]);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([worker?.stop(), python?.stop()]);
  await app?.close();
});

const mul = (...args: number[]) => app.signature<number>('ts.mul', args).set({ queue: tsQueue });
const pyAdd = (...args: number[]) => app.signature<number>('pyapp.add', args).set({ queue: pyQueue });

describe('canvas across taskq and Python Celery over Redis', () => {
  it('completes a chain whose steps alternate between taskq and Python', async () => {
    // ((1 * 2) + 10) * 3 + 1
    const result = await chain(mul(1, 2), pyAdd(10), mul(3), pyAdd(1)).applyAsync();
    expect(await result.get({ timeout: 30_000 })).toBe(37);
  });

  it('stops such a chain at a failing taskq step; the last step reads the failure', async () => {
    const fail = app.signature<number>('ts.fail', ['no']).set({ queue: tsQueue }).asImmutable();
    const result = await chain(pyAdd(1, 1), fail, pyAdd(1)).applyAsync();
    const error = (await result.get({ timeout: 30_000 }).catch((e: unknown) => e)) as TaskFailedError;
    expect(error).toBeInstanceOf(TaskFailedError);
    expect(error.excType).toBe('TypeError');
  });

  it('collects in TS a group Python started (GroupResult.restore)', async () => {
    const started = await pythonCanvas(['group', 'ts.mul', tsQueue, JSON.stringify([[1, 2], [3, 4], [5, 6]])]);
    const result = await GroupResult.restore<number[]>(app, started.group_id);
    expect(result?.results.map((r) => r.id)).toEqual(started.task_ids);
    expect(await result!.get({ timeout: 30_000 })).toEqual([2, 12, 30]);
  });

  it('fires a taskq callback of a chord whose header Python started and ran', async () => {
    const started = await pythonCanvas(['chord', 'pyapp.add', pyQueue, JSON.stringify([[1, 1], [2, 2], [3, 3]]), 'ts.sum', tsQueue]);
    expect(await app.AsyncResult(started.body_id!).get({ timeout: 30_000 })).toBe(12);
  });

  it('fires a chord whose header runs on both sides, counted in the same Redis keys', async () => {
    const sum = app.signature<number>('ts.sum').set({ queue: tsQueue });
    const result = await chord([mul(2, 3), pyAdd(4, 5), mul(1, 1), pyAdd(0, 0)], sum).applyAsync();
    expect(await result.get({ timeout: 30_000 })).toBe(16);
  });

  it('runs a Python chord callback once a taskq header finished', async () => {
    const echo = app.signature<unknown>('pyapp.echo').set({ queue: pyQueue });
    const result = await chord([mul(3, 3), mul(4, 4)], echo).applyAsync();
    expect(await result.get({ timeout: 30_000 })).toEqual([9, 16]);
  });

  it('collects a group whose members run on both sides', async () => {
    const result = await group([pyAdd(1, 2), mul(2, 2)]).applyAsync();
    expect(await result.get({ timeout: 30_000 })).toEqual([3, 4]);
  });
});
