/**
 * The threads/process pool behaviours, as one suite run per transport
 * (memory:// in pools.test.ts, Redis in pools-redis.test.ts): pools must work
 * on every transport, and on memory:// the children store through the parent.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { App, ResultMeta } from '@taskq/core';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Worker, type WorkerOptions } from '../../src/index.js';
import { until } from './harness.js';

export const POOL_APP = fileURLToPath(new URL('../fixtures/pool-app.ts', import.meta.url));

export type LogLine = Record<string, unknown> & { level: number; msg: string };

/** `cleanup` gets the queues and task ids a test used (the Redis suite deletes their keys). */
export function describePools(transport: string, loadApp: () => Promise<App>, cleanup?: (queues: string[], taskIds: string[]) => Promise<void>): void {
  for (const pool of ['threads', 'process'] as const) {
    describe(`${pool} pool on ${transport}`, () => {
      let app: App;
      const workers: Worker[] = [];
      let queue: string;
      const logs: LogLine[] = [];
      const queues: string[] = [];
      const sent: string[] = [];

      afterEach(async () => {
        await Promise.all(workers.splice(0).map((w) => w.stop({ cold: true })));
        await cleanup?.(queues.splice(0), sent.splice(0));
      });

      async function start(options: WorkerOptions = {}): Promise<Worker> {
        app = await loadApp();
        queue = `pool-${pool}-${randomUUID()}`;
        queues.push(queue);
        const logger = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line) as LogLine) });
        const worker = new Worker(app, { pool, appModule: POOL_APP, queues: [queue], concurrency: 2, logger, shutdownTimeout: 5, ...options });
        workers.push(worker);
        await worker.start();
        return worker;
      }

      async function send(name: string, args: unknown[] = [], options: Record<string, unknown> = {}): Promise<string> {
        const r = await app.sendTask(name, args, {}, { queue, ...options });
        sent.push(r.id);
        return r.id;
      }

      async function result(id: string): Promise<ResultMeta> {
        return (await app.getBackend()).wait(id, { timeoutMs: 20_000 });
      }

      it('runs tasks in its threads/children and stores their results', async () => {
        const worker = await start();
        const meta = await result(await send('pool.whoami'));
        expect(meta.status).toBe('SUCCESS');
        const who = meta.result as { pid: number; threadId: number; initialisedIn: { pid: number; threadId: number } };
        if (pool === 'process') expect(who.pid).not.toBe(process.pid);
        else expect(who.threadId).not.toBe(0);
        expect(worker.poolChildren).toContain(pool === 'process' ? who.pid : who.threadId);
        // workerProcessInit ran in that very thread/child, before its first task.
        expect(who.initialisedIn).toEqual({ pid: who.pid, threadId: who.threadId });
      });

      it('kills a CPU-bound task at its hard time limit, stores TimeLimitExceeded and keeps serving', async () => {
        const worker = await start();
        const before = worker.poolChildren;
        const spin = await send('pool.spin', [], { timeLimit: 1 });
        const adds = await Promise.all([1, 2, 3, 4].map((n) => send('pool.add', [n, n])));
        for (const [i, id] of adds.entries()) expect((await result(id)).result).toBe((i + 1) * 2);
        const failed = await result(spin);
        expect(failed.status).toBe('FAILURE');
        expect((failed.result as { exc_type: string }).exc_type).toBe('TimeLimitExceeded');
        expect((await result(await send('pool.add', [20, 22]))).result).toBe(42);
        // The killed thread/child was replaced: same pool size, one new id.
        await until(() => worker.poolChildren.length === 2, 10_000, 'worker.poolChildren.length === 2');
        expect(worker.poolChildren.filter((id) => !before.includes(id))).toHaveLength(1);
      });

      it('replaces a thread/child after maxTasksPerChild tasks', async () => {
        await start({ concurrency: 1, maxTasksPerChild: 2 });
        const ids: number[] = [];
        for (let i = 0; i < 4; i++) {
          const who = (await result(await send('pool.whoami'))).result as { pid: number; threadId: number };
          ids.push(pool === 'process' ? who.pid : who.threadId);
        }
        expect(ids[0]).toBe(ids[1]);
        expect(ids[2]).toBe(ids[3]);
        expect(ids[2]).not.toBe(ids[1]);
      });

      it('replaces a thread/child that grew past maxMemoryPerChild', async () => {
        await start({ concurrency: 1, maxMemoryPerChild: 150 * 1024 });
        const grown = (await result(await send('pool.grow', [200]))).result as { pid: number; threadId: number };
        const next = (await result(await send('pool.whoami'))).result as { pid: number; threadId: number };
        if (pool === 'process') expect(next.pid).not.toBe(grown.pid);
        else expect(next.threadId).not.toBe(grown.threadId);
      });

      it('terminates a running task on revoke({ terminate: true }) and marks it REVOKED', async () => {
        const worker = await start();
        const spin = await send('pool.spin');
        await until(() => worker.stats().active === 1, 10_000, 'worker.stats().active === 1');
        worker.revoke(spin, { terminate: true });
        const meta = await result(spin);
        expect(meta.status).toBe('REVOKED');
        expect((meta.result as { exc_message: unknown[] }).exc_message).toEqual(['terminated']);
        expect((await result(await send('pool.add', [1, 1]))).result).toBe(2);
      });

      it('honours a rate limit (10/s: at most 11 starts in any 1 s) without holding up other tasks', async () => {
        await start({ concurrency: 2 });
        const limited = await Promise.all(Array.from({ length: 15 }, () => send('pool.limited')));
        const other = await send('pool.add', [2, 3]);
        expect((await result(other)).result).toBe(5);
        const backend = await app.getBackend();
        const finished = await Promise.all(limited.map((id) => backend.get(id)));
        // The other task did not wait behind the limited ones.
        expect(finished.filter((m) => m?.status === 'SUCCESS').length).toBeLessThan(15);
        const starts = await Promise.all(limited.map(async (id) => (await result(id)).result as number));
        for (const first of starts) expect(starts.filter((t) => t >= first && t < first + 1000).length).toBeLessThanOrEqual(11);
      });

      it('refuses a task revoked before it arrives', async () => {
        const worker = await start();
        const id = randomUUID();
        worker.revoke(id);
        await send('pool.add', [1, 2], { taskId: id });
        const meta = await result(id);
        expect(meta.status).toBe('REVOKED');
        expect((meta.result as { exc_message: unknown[] }).exc_message).toEqual(['revoked']);
      });
    });
  }
}
