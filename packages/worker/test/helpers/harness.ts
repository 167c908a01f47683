/** Shared test set-up: an isolated memory:// app whose log lines are captured, and workers stopped after each test. */
import type { App, AppOptions, ResultMeta } from '@taskq/core';
import { createTestApp } from '@taskq/core/testing';
import { pino } from 'pino';
import { afterEach } from 'vitest';
import { Worker, type WorkerOptions } from '../../src/index.js';

export type LogLine = Record<string, unknown> & { level: number; msg: string };

export interface Harness {
  app: App;
  /** Every log line written by the app and its workers, parsed. */
  logs: LogLine[];
  /** Create and start a worker; it is stopped (cold) after the test if still running. */
  startWorker(options?: WorkerOptions): Promise<Worker>;
  /** The stored result meta of a task once it is ready (SUCCESS, FAILURE or REVOKED). */
  result(id: string): Promise<ResultMeta>;
}

const workers: Worker[] = [];

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop({ cold: true })));
});

/** An isolated app (own memory:// vhost) with `appOptions`, logging into `logs`. */
export function createHarness(appOptions: AppOptions = {}): Harness {
  const logs: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line) as LogLine) });
  const app = createTestApp({ ...appOptions, logger });
  return {
    app,
    logs,
    async startWorker(options = {}) {
      const worker = new Worker(app, options);
      workers.push(worker);
      await worker.start();
      return worker;
    },
    async result(id) {
      return (await app.getBackend()).wait(id, { timeoutMs: 10_000 });
    },
  };
}

/** A promise with its resolve function outside, to hold a task until the test lets it go. */
export function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

export { until } from '@taskq/core/testing';
