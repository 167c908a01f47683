/** The behaviours every result backend must show: `describeResultBackendConformance({ name, createBackend })`. */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { TimeoutError } from '../errors.js';
import type { ResultBackend, ResultMeta, TaskState } from '../result-backend.js';
import { toNaiveUtcIso } from '../time.js';

export interface ResultBackendConformanceOptions {
  name: string;
  /** A fresh, connected backend; two may be open at once and must see the same results. */
  createBackend(): Promise<ResultBackend>;
}

export function describeResultBackendConformance(options: ResultBackendConformanceOptions): void {
  const opened: ResultBackend[] = [];
  const backend = async (): Promise<ResultBackend> => {
    const b = await options.createBackend();
    opened.push(b);
    return b;
  };
  const meta = (id: string, status: TaskState, result: unknown): ResultMeta => ({
    status,
    result,
    traceback: null,
    children: [],
    date_done: status === 'SUCCESS' || status === 'FAILURE' ? toNaiveUtcIso(new Date()) : null,
    task_id: id,
  });

  describe(`Result backend conformance: ${options.name}`, () => {
    afterAll(async () => {
      for (const b of opened) {
        await b.close().catch(() => {});
      }
    });

    it('reads back what it stored, and undefined for an unknown id', async () => {
      const b = await backend();
      const id = randomUUID();
      expect(await b.get(id)).toBeUndefined();
      await b.store(id, meta(id, 'SUCCESS', { n: 5 }));
      expect(await b.get(id)).toMatchObject({ status: 'SUCCESS', result: { n: 5 }, task_id: id });
      await b.forget(id);
    });

    it('round-trips unicode and integers beyond 2^53', async () => {
      const b = await backend();
      const id = randomUUID();
      const value = { u: 'héllo ✓ 𝄞', big: 12345678901234567890123n, f: 2.5, n: null };
      await b.store(id, meta(id, 'SUCCESS', value));
      expect((await b.get(id))!.result).toEqual(value);
      await b.forget(id);
    });

    it('never overwrites a stored SUCCESS', async () => {
      const b = await backend();
      const id = randomUUID();
      await b.store(id, meta(id, 'SUCCESS', 1));
      await b.store(id, meta(id, 'FAILURE', { exc_type: 'ValueError', exc_message: ['late'], exc_module: 'builtins' }));
      expect((await b.get(id))!.status).toBe('SUCCESS');
      await b.forget(id);
    });

    it('wakes a waiter when the result is stored by another connection', async () => {
      const [waiter, writer] = [await backend(), await backend()];
      const id = randomUUID();
      const waiting = waiter.wait(id, { timeoutMs: 5000 });
      await new Promise((r) => setTimeout(r, 100));
      await writer.store(id, meta(id, 'STARTED', null));
      await writer.store(id, meta(id, 'SUCCESS', 'done'));
      expect((await waiting).result).toBe('done');
      await writer.forget(id);
    });

    it('returns at once when the result is already stored', async () => {
      const b = await backend();
      const id = randomUUID();
      await b.store(id, meta(id, 'FAILURE', { exc_type: 'ValueError', exc_message: ['x'], exc_module: 'builtins' }));
      expect((await b.wait(id, { timeoutMs: 1000 })).status).toBe('FAILURE');
      await b.forget(id);
    });

    it('times out with a TimeoutError while the task is not ready', async () => {
      const b = await backend();
      const id = randomUUID();
      await b.store(id, meta(id, 'RETRY', null));
      await expect(b.wait(id, { timeoutMs: 200 })).rejects.toBeInstanceOf(TimeoutError);
      await b.forget(id);
    });

    it('forgets a result', async () => {
      const b = await backend();
      const id = randomUUID();
      await b.store(id, meta(id, 'SUCCESS', 1));
      await b.forget(id);
      expect(await b.get(id)).toBeUndefined();
    });
  });
}
