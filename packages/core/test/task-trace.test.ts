/** traceTask when the result backend fails: the task ran, so its outcome is reported and the failure logged. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AppOptions } from '../src/app.js';
import { traceTask } from '../src/task-trace.js';
import { createDownResultBackend } from '../src/testing/down-backend.js';
import { createTestApp } from '../src/testing/test-app.js';
import { drain } from './helpers.js';

type LogLine = Record<string, unknown> & { level: number; msg: string };

/** A memory:// app whose backend refuses every store, logging into `logs`. */
function appWithFailingBackend(options: AppOptions = {}) {
  const logs: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line) as LogLine) });
  return { app: createTestApp({ ...options, backend: createDownResultBackend(), logger }), logs };
}

describe('traceTask with a result backend that cannot store', () => {
  it('reports the outcome of a task that ran and logs "failed to store result" at error with its id and name', async () => {
    const { app, logs } = appWithFailingBackend();
    app.task('math.add', (a: number, b: number) => a + b);
    const sent = await app.sendTask('math.add', [2, 3]);
    const [d] = await drain(app, 'celery');
    const outcome = await traceTask(app, d!.message, { hostname: 'w@test' });
    expect(outcome).toMatchObject({ kind: 'success', value: 5 });
    const line = logs.find((l) => l.level === 50 && l.msg.includes('failed to store result'));
    expect(line).toMatchObject({ taskId: sent.id, taskName: 'math.add', state: 'SUCCESS' });
  });

  it('reports a failure outcome too', async () => {
    const { app } = appWithFailingBackend();
    app.task('boom', () => {
      throw new TypeError('bad input');
    });
    await app.sendTask('boom');
    const [d] = await drain(app, 'celery');
    expect(await traceTask(app, d!.message, { hostname: 'w@test' })).toMatchObject({ kind: 'failure', excType: 'TypeError' });
  });

  it('still rejects when STARTED cannot be stored: the task has not run', async () => {
    const { app } = appWithFailingBackend({ taskTrackStarted: true });
    let ran = false;
    app.task('tracked', () => {
      ran = true;
    });
    await app.sendTask('tracked');
    const [d] = await drain(app, 'celery');
    await expect(traceTask(app, d!.message, { hostname: 'w@test' })).rejects.toThrow('result backend is down');
    expect(ran).toBe(false);
  });
});
