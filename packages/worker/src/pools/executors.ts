/**
 * Starting a pool thread or child process running `child-entry`, behind one
 * small interface. A TypeScript entry (tests, running from source) or app
 * module loads through tsx, which must then be installed where the worker,
 * the app module or the running program can resolve it.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker as Thread } from 'node:worker_threads';
import { ConfigError } from '@taskq/core';
import type { FromChild, ToChild } from './child-protocol.js';

/** A running thread or child process. */
export interface Executor {
  /** Process id (process pool) or thread id (threads pool). */
  readonly id: number;
  send(message: ToChild): void;
  /** Stop it now: terminate the thread, or signal the child (default SIGKILL). */
  kill(signal?: NodeJS.Signals): void;
  onMessage(handler: (message: FromChild) => void): void;
  /** Called once when it is gone, with a description (exit code or signal). */
  onExit(handler: (how: string) => void): void;
}

const TS_FILE = /\.[cm]?tsx?$/;

/** The built entry next to this module (dist), else the TypeScript source (tests). */
export function childEntryFile(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, 'pools', 'child-entry.js'), path.join(here, 'child-entry.js'), path.join(here, 'child-entry.ts'), path.join(here, 'pools', 'child-entry.ts')];
  const found = candidates.find((f) => existsSync(f));
  if (!found) throw new ConfigError(`the taskq pool entry (child-entry.js) is missing next to ${here}; reinstall @taskq/worker`);
  return found;
}

/** tsx's directory, looked up from the worker, the app module, the running program and the current directory. */
function findTsx(appModule: string): string | undefined {
  const bases = [fileURLToPath(import.meta.url), appModule, process.argv[1], path.join(process.cwd(), 'package.json')];
  for (const base of bases) {
    if (!base || !path.isAbsolute(base)) continue;
    try {
      return path.dirname(createRequire(base).resolve('tsx/package.json'));
    } catch {
      // try the next place
    }
  }
  return undefined;
}

export interface SpawnPlan {
  entry: string;
  /** tsx's directory when TypeScript must load. */
  tsx: string | undefined;
}

/** Where the entry is and whether tsx is needed; throws ConfigError when TypeScript must load but tsx cannot be found. */
export function planSpawn(appModule: string): SpawnPlan {
  const entry = childEntryFile();
  const needsTs = TS_FILE.test(entry) || TS_FILE.test(appModule);
  if (!needsTs) return { entry, tsx: undefined };
  const tsx = findTsx(appModule);
  if (!tsx) {
    throw new ConfigError(`the app module ${appModule} is TypeScript, so each pool thread/child loads it through tsx, which is not installed: add tsx to your dependencies, or build the app and pass the .js file`);
  }
  return { entry, tsx };
}

/** Runs in the thread (eval'd as CommonJS): register tsx when needed, then import the entry. */
const THREAD_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsxApi) (await import(workerData.tsxApi)).register();
  await import(workerData.entry);
})().catch((error) => { setImmediate(() => { throw error; }); });
`;

export function spawnThread(plan: SpawnPlan): Executor {
  const thread = new Thread(THREAD_BOOTSTRAP, {
    eval: true,
    workerData: { entry: pathToFileURL(plan.entry).href, tsxApi: plan.tsx ? pathToFileURL(path.join(plan.tsx, 'dist/esm/api/index.mjs')).href : undefined },
  });
  let exited = false;
  let lastError: Error | undefined;
  const exitHandlers: ((how: string) => void)[] = [];
  thread.on('error', (error) => {
    lastError = error;
  });
  thread.on('exit', (code) => {
    if (exited) return;
    exited = true;
    const how = lastError ? `exit code ${code} (${lastError.message})` : `exit code ${code}`;
    for (const h of exitHandlers) h(how);
  });
  return {
    id: thread.threadId,
    send: (m) => thread.postMessage(m),
    kill: () => {
      void thread.terminate();
    },
    onMessage: (h) => thread.on('message', h),
    onExit: (h) => exitHandlers.push(h),
  };
}

export function spawnProcess(plan: SpawnPlan): Executor {
  const child: ChildProcess = fork(plan.entry, [], {
    execArgv: plan.tsx ? ['--import', pathToFileURL(path.join(plan.tsx, 'dist/esm/index.mjs')).href] : [],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exitHandlers: ((how: string) => void)[] = [];
  let exited = false;
  const onGone = (how: string): void => {
    if (exited) return;
    exited = true;
    for (const h of exitHandlers) h(how);
  };
  child.on('exit', (code, signal) => onGone(signal ? `signal ${signal}` : `exit code ${code}`));
  child.on('error', (error) => {
    // Spawn failures and IPC errors on a dying child: make sure it is gone.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    else onGone(`error: ${error.message}`);
  });
  return {
    id: child.pid ?? -1,
    send: (m) => {
      if (child.connected) child.send(m);
    },
    kill: (signal = 'SIGKILL') => {
      child.kill(signal);
    },
    onMessage: (h) => child.on('message', (m) => h(m as FromChild)),
    onExit: (h) => exitHandlers.push(h),
  };
}
