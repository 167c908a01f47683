import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AsyncResult } from '../src/async-result.js';
import { TaskFailedError, TaskRevokedError, TimeoutError } from '../src/errors.js';
import { MemoryResultBackend } from '../src/memory/memory-result-backend.js';
import type { ResultMeta, TaskState } from '../src/result-backend.js';
import { fixture } from './helpers.js';

function setup(): { backend: MemoryResultBackend; result: AsyncResult<number>; id: string } {
  const backend = new MemoryResultBackend(`memory://ar-${randomUUID()}`);
  const id = randomUUID();
  return { backend, id, result: new AsyncResult<number>(id, { getBackend: async () => backend }) };
}

const meta = (id: string, status: TaskState, result: unknown, traceback: string | null = null): ResultMeta => ({
  status,
  result,
  traceback,
  children: [],
  date_done: null,
  task_id: id,
});

describe('AsyncResult', () => {
  it('is PENDING, not ready, while nothing is stored', async () => {
    const { result } = setup();
    expect(await result.state).toBe('PENDING');
    expect(await result.ready()).toBe(false);
    expect(await result.result).toBeUndefined();
  });

  it('get() returns the value once SUCCESS is stored', async () => {
    const { backend, result, id } = setup();
    const waiting = result.get({ timeout: 5000 });
    await backend.store(id, meta(id, 'STARTED', null));
    await backend.store(id, meta(id, 'SUCCESS', 42));
    expect(await waiting).toBe(42);
    expect(await result.successful()).toBe(true);
    expect(await result.ready()).toBe(true);
    expect(await result.result).toBe(42);
  });

  it('get({ timeout }) throws TimeoutError while the task is not ready', async () => {
    const { backend, result, id } = setup();
    await backend.store(id, meta(id, 'RETRY', null));
    const error = await result.get({ timeout: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toContain(id);
  });

  it('rethrows a failure as TaskFailedError with its type, message and remote traceback', async () => {
    const { backend, result, id } = setup();
    await backend.store(id, meta(id, 'FAILURE', { exc_type: 'FlakyError', exc_message: ['down'], exc_module: 'taskq' }, 'FlakyError: down\n    at task'));
    const error = (await result.get().catch((e: unknown) => e)) as TaskFailedError;
    expect(error).toBeInstanceOf(TaskFailedError);
    expect(error).toMatchObject({ excType: 'FlakyError', excMessage: ['down'], excModule: 'taskq', taskId: id, state: 'FAILURE' });
    expect(error.message).toBe('FlakyError: down');
    expect(error.remoteTraceback).toBe('FlakyError: down\n    at task');
    expect(await result.failed()).toBe(true);
    expect(await result.traceback).toBe('FlakyError: down\n    at task');
  });

  it('returns the failure instead of throwing with propagate: false', async () => {
    const { backend, result, id } = setup();
    await backend.store(id, meta(id, 'FAILURE', { exc_type: 'ValueError', exc_message: ['x'], exc_module: 'builtins' }));
    expect(await result.get({ propagate: false })).toBeInstanceOf(TaskFailedError);
  });

  it('throws TaskRevokedError for a REVOKED task', async () => {
    const { backend, result, id } = setup();
    const revoked = fixture<ResultMeta>('result-redis-revoked-extended.json');
    await backend.store(id, { ...revoked, task_id: id });
    const error = await result.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskRevokedError);
    expect((error as TaskRevokedError).reason).toBe('revoked');
    expect(await result.ready()).toBe(true);
  });

  it('rebuilds a failure stored by Python Celery as TaskFailedError("ValueError")', async () => {
    const { backend } = setup();
    const stored = fixture<ResultMeta>('result-redis-failure.json');
    await backend.store(stored.task_id, stored);
    const error = (await new AsyncResult(stored.task_id, { getBackend: async () => backend }).get().catch((e: unknown) => e)) as TaskFailedError;
    expect(error).toBeInstanceOf(TaskFailedError);
    expect(error.excType).toBe('ValueError');
    expect(error.excModule).toBe('builtins');
    expect(error.message).toBe('ValueError: boom ✗');
    expect(error.remoteTraceback).toContain('raise ValueError(message)');
  });

  it('rebuilds Celery’s NotRegistered failure', async () => {
    const { backend } = setup();
    const stored = fixture<ResultMeta>('result-redis-notregistered-extended.json');
    await backend.store(stored.task_id, stored);
    const error = (await new AsyncResult(stored.task_id, { getBackend: async () => backend }).get().catch((e: unknown) => e)) as TaskFailedError;
    expect(error.excType).toBe('NotRegistered');
    expect(error.excMessage).toEqual(['interop.does_not_exist']);
  });

  it('forget() removes the stored result, so the task reads PENDING again', async () => {
    const { backend, result, id } = setup();
    await backend.store(id, meta(id, 'SUCCESS', 1));
    await result.forget();
    expect(await result.state).toBe('PENDING');
  });

  it('stops waiting when its signal aborts', async () => {
    const { result } = setup();
    const controller = new AbortController();
    const waiting = result.get({ signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    await expect(waiting).rejects.toThrow('caller gave up');
  });
});
