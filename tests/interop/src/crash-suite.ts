/**
 * Crash safety: a worker process killed with SIGKILL at any point loses no
 * task. Its fetched-but-unacknowledged messages come back once the
 * visibility timeout passes, and a second worker completes them.
 */
import { fileURLToPath } from 'node:url';
import { type App, createApp, createLogger } from '@taskq/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueQueue, type InteropTransport } from './transports.js';
import { startWorkerProcess, type WorkerProcess } from './worker-process.js';

const CRASH_APP = fileURLToPath(new URL('../fixtures/crash-app.ts', import.meta.url));
const VISIBILITY_TIMEOUT = '3';

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function describeCrashSafety(transport: InteropTransport): void {
  describe(`crash safety over ${transport.name}`, () => {
    let app: App;
    const workers: WorkerProcess[] = [];
    const env = { TASKQ_BROKER_URL: transport.brokerUrl, TASKQ_RESULT_BACKEND: transport.backendUrl, CRASH_VISIBILITY_TIMEOUT: VISIBILITY_TIMEOUT, TASKQ_LOG_LEVEL: 'info' };

    beforeAll(() => {
      app = createApp({ brokerUrl: transport.brokerUrl, resultBackend: transport.backendUrl, logger: createLogger('silent'), env: {} });
    });
    afterAll(async () => {
      for (const w of workers) await w.kill('SIGKILL');
      await app.close();
    });

    it('completes all of 1,000 tasks after the worker running them is killed with SIGKILL mid-run', async () => {
      const queue = uniqueQueue('crash');
      const ids: string[] = [];
      for (let i = 0; i < 1000; i++) ids.push((await app.sendTask('crash.work', [i], {}, { queue })).id);
      const backend = await app.getBackend();
      const done = async (): Promise<number> => {
        let n = 0;
        for (const id of ids) if ((await backend.get(id))?.status === 'SUCCESS') n++;
        return n;
      };
      const first = await startWorkerProcess(CRASH_APP, ['-Q', queue, '-c', '10'], env);
      workers.push(first);
      let before = 0;
      await until(
        async () => {
          before = await done();
          return before >= 200;
        },
        60_000,
        '200 results from the first worker',
      );
      await first.kill('SIGKILL');
      expect(before).toBeLessThan(1000);

      const second = await startWorkerProcess(CRASH_APP, ['-Q', queue, '-c', '10'], env);
      workers.push(second);
      await until(async () => (await done()) === 1000, 120_000, 'all 1,000 results');
      const values = await Promise.all(ids.map((id) => app.AsyncResult(id).get({ timeout: 1000 })));
      expect(new Set(values).size).toBe(1000);
      await second.kill('SIGTERM');
    }, 240_000);

    it('redelivers a message whose worker died after fetching it and before acknowledging it', async () => {
      const queue = uniqueQueue('crash-ack');
      const result = await app.sendTask('crash.die_once', [7], {}, { queue });
      const first = await startWorkerProcess(CRASH_APP, ['-Q', queue, '-c', '1'], env, false);
      workers.push(first);
      await new Promise<void>((resolve) => first.child.once('exit', () => resolve()));
      expect(first.child.signalCode).toBe('SIGKILL');

      const second = await startWorkerProcess(CRASH_APP, ['-Q', queue, '-c', '1'], env);
      workers.push(second);
      expect(await result.get({ timeout: 60_000 })).toEqual({ n: 7, redelivered: true });
      await second.kill('SIGTERM');
    }, 120_000);
  });
}
