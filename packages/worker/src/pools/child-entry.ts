/**
 * The entry of a pool thread or child process (Celery's prefork child): load
 * the app module, run `worker_process_init` handlers, then run each task the
 * main process sends through `traceTask` — storing its state with this
 * thread's/child's own backend connection — and report a small outcome back.
 * The main process keeps acking, publishing retries and enforcing the hard
 * time limit (by terminating this thread or killing this process).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, threadId } from 'node:worker_threads';
import type { App, ResultBackend, ResultMeta, StoreContext } from '@taskq/core';
import { runTask } from '../run-task.js';
import { type ChildInit, type FromChild, fromWireError, type ToChild, toWireError, toWireOutcome } from './child-protocol.js';

type Port = { send(message: FromChild): void; onMessage(handler: (message: ToChild) => void): void; close(): void };

function connect(): Port {
  if (!isMainThread && parentPort) {
    const port = parentPort;
    return { send: (m) => port.postMessage(m), onMessage: (h) => port.on('message', h), close: () => port.close() };
  }
  if (process.send) {
    return {
      send: (m) => process.send!(m),
      onMessage: (h) => process.on('message', (m) => h(m as ToChild)),
      close: () => process.disconnect(),
    };
  }
  throw new Error('the taskq pool entry must run as a worker thread or a forked child process of a taskq worker');
}

const port = connect();
let app: App | undefined;
let init: ChildInit | undefined;
let backend: ResultBackend | undefined;
const running = new Map<number, AbortController>();
const pendingStores = new Map<number, { resolve(): void; reject(error: Error): void }>();
let nextReq = 0;

port.onMessage((message) => {
  switch (message.type) {
    case 'init':
      void start(message.init);
      return;
    case 'run':
      void run(message.jobId, message);
      return;
    case 'abort':
      running.get(message.jobId)?.abort(fromWireError(message.reason));
      return;
    case 'stored': {
      const pending = pendingStores.get(message.reqId);
      pendingStores.delete(message.reqId);
      if (message.error) pending?.reject(fromWireError(message.error));
      else pending?.resolve();
      return;
    }
    case 'exit':
      void exit();
      return;
  }
});

async function start(given: ChildInit): Promise<void> {
  init = given;
  try {
    app = await importApp(given.appModule);
    backend = given.proxyResults ? undefined : await app.getBackend();
    await app.signals.emitAndWait('workerProcessInit', { hostname: given.hostname, pool: given.pool, pid: process.pid, threadId });
    port.send({ type: 'ready', pid: process.pid, threadId });
  } catch (error) {
    port.send({ type: 'init-failed', error: toWireError(error) });
  }
}

async function run(jobId: number, message: Extract<ToChild, { type: 'run' }>): Promise<void> {
  const controller = new AbortController();
  running.set(jobId, controller);
  try {
    const env = {
      ...stripUndefined(message.env),
      signal: controller.signal,
      backend: backend ?? proxyBackend(jobId),
    };
    const outcome = await runTask(app!, message.message, env);
    port.send({ type: 'done', jobId, outcome: toWireOutcome(outcome), memoryKiB: memoryKiB() });
  } catch (error) {
    // traceTask throws only when the backend fails: report it as the task's failure.
    port.send({ type: 'done', jobId, outcome: { kind: 'failure', runtimeMs: 0, excType: 'Error', error: toWireError(error) }, memoryKiB: memoryKiB() });
  } finally {
    running.delete(jobId);
  }
}

/** Resident memory of a child process; the V8 heap of a thread (threads share the process's RSS). */
function memoryKiB(): number {
  const usage = process.memoryUsage();
  return Math.round((isMainThread ? usage.rss : usage.heapUsed) / 1024);
}

/** The backend seen by traceTask when the main process holds the results (memory://). */
function proxyBackend(jobId: number): ResultBackend {
  const unsupported = (): never => {
    throw new Error('reading results through the pool proxy backend is not supported; use app.getBackend()');
  };
  return {
    backend: 'proxy',
    connect: async () => {},
    close: async () => {},
    store: (taskId: string, meta: ResultMeta, context?: StoreContext) =>
      new Promise<void>((resolve, reject) => {
        const reqId = ++nextReq;
        pendingStores.set(reqId, { resolve, reject });
        port.send({ type: 'store', reqId, jobId, taskId, meta, context });
      }),
    get: unsupported,
    wait: unsupported,
    forget: unsupported,
  };
}

async function exit(): Promise<void> {
  try {
    await app?.close();
  } finally {
    port.close();
    if (isMainThread) process.exit(0);
  }
}

async function importApp(spec: string): Promise<App> {
  const url = path.isAbsolute(spec) ? pathToFileURL(spec).href : createRequire(path.join(process.cwd(), 'package.json')).resolve(spec);
  const mod = (await import(url.startsWith('file:') ? url : pathToFileURL(url).href)) as Record<string, unknown>;
  const candidate = (('app' in mod ? mod.app : mod.default) ?? undefined) as App | undefined;
  if (!candidate || typeof candidate !== 'object' || !(candidate.tasks instanceof Map) || typeof candidate.getBackend !== 'function') {
    throw new Error(`${spec} does not export a taskq app (an export named "app" or a default export made with createApp())`);
  }
  if (!candidate.signals) throw new Error(`${spec} exports an app from an older @taskq/core without signals; use the same @taskq/core as the worker`);
  return candidate;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

process.on('unhandledRejection', (error) => {
  // A task abandoned at its time limit may reject later; it must not take the child down with it.
  app?.log.warn({ err: error, pid: process.pid, threadId, hostname: init?.hostname }, 'unhandled rejection in a pool child (a task abandoned at its time limit?)');
});
