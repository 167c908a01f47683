/** app.signals: Celery's worker and task signals, fired in order. */
import { describe, expect, it } from 'vitest';
import { createHarness, until } from './helpers/harness.js';

describe('Hooks (app.signals)', () => {
  it('fires worker init, process init, task prerun/success/postrun and worker shutdown in order', async () => {
    const h = createHarness();
    h.app.task('add', (a: number, b: number) => a + b);
    const events: string[] = [];
    for (const name of ['workerInit', 'workerProcessInit', 'taskPrerun', 'taskSuccess', 'taskFailure', 'taskPostrun', 'workerShutdown'] as const) {
      h.app.signals.on(name, () => void events.push(name));
    }
    const worker = await h.startWorker();
    const r = await h.app.sendTask('add', [1, 2]);
    await h.result(r.id);
    await until(() => events.includes('taskPostrun'), 10_000, 'events.includes("taskPostrun")');
    await worker.stop();
    expect(events).toEqual(['workerInit', 'workerProcessInit', 'taskPrerun', 'taskSuccess', 'taskPostrun', 'workerShutdown']);
  });

  it('passes the task, its arguments and the outcome to the task signals', async () => {
    const h = createHarness();
    h.app.task('boom', () => {
      throw new TypeError('bad input');
    });
    const seen: unknown[] = [];
    h.app.signals.on('taskPrerun', ({ taskName, args }) => void seen.push(['prerun', taskName, args]));
    h.app.signals.on('taskFailure', ({ excType, error }) => void seen.push(['failure', excType, (error as Error).message]));
    h.app.signals.on('taskPostrun', ({ state }) => void seen.push(['postrun', state]));
    await h.startWorker();
    const r = await h.app.sendTask('boom', [7]);
    await h.result(r.id);
    await until(() => seen.length === 3, 10_000, 'seen.length === 3');
    expect(seen).toEqual([
      ['prerun', 'boom', [7]],
      ['failure', 'TypeError', 'bad input'],
      ['postrun', 'FAILURE'],
    ]);
  });

  it('fires taskRetry for a retry and taskRevoked for a revoked task', async () => {
    const h = createHarness();
    h.app.task('flaky', (ctx) => ctx.retry({ countdown: 60 }), { bind: true });
    h.app.task('never', () => {});
    const seen: string[] = [];
    h.app.signals.on('taskRetry', ({ taskName }) => void seen.push(`retry ${taskName}`));
    h.app.signals.on('taskRevoked', ({ taskName, reason }) => void seen.push(`revoked ${taskName} ${reason}`));
    const worker = await h.startWorker();
    await h.app.sendTask('flaky');
    await until(() => seen.includes('retry flaky'), 10_000, 'seen.includes("retry flaky")');
    worker.revoke('revoked-id');
    await h.app.sendTask('never', [], {}, { taskId: 'revoked-id' });
    await until(() => seen.includes('revoked never revoked'), 10_000, 'seen.includes("revoked never revoked")');
  });

  it('logs a failing handler and carries on', async () => {
    const h = createHarness();
    h.app.task('add', (a: number, b: number) => a + b);
    h.app.signals.on('taskPrerun', () => {
      throw new Error('handler bug');
    });
    await h.startWorker();
    const r = await h.app.sendTask('add', [2, 2]);
    expect((await h.result(r.id)).result).toBe(4);
  });
});
