/** Start `taskq worker` as a separate process, as a user would, for the crash tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stopChild } from './python.js';

const CLI = fileURLToPath(new URL('../../../packages/cli/bin/taskq.js', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Spawn the worker; unless `waitReady` is false, resolve once its log says it is consuming. */
export async function startWorkerProcess(
  appModule: string,
  args: string[],
  env: Record<string, string>,
  waitReady = true,
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [CLI, 'worker', '--app', appModule, '-l', 'info', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const handle: WorkerProcess = { child, output: () => out, kill: (signal: NodeJS.Signals = 'SIGKILL') => stopChild(child, signal) };
  if (!waitReady) return handle;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`taskq worker not ready after 30 s:\n${out}`)), 30_000);
    const check = (): void => {
      if (/ready|consuming/i.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`taskq worker exited (${code ?? signal}) before it was ready:\n${out}`));
    });
  });
  return handle;
}
