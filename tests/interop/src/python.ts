/**
 * Drive the project's Python Celery peer (python/pyapp.py): start a real
 * Celery worker, send tasks with Python, read results with Python.
 * Python Celery 5.2 must be installed for /usr/bin/python3
 * (`apt-get install python3-celery python3-redis python3-amqp`); when it is
 * not, these helpers throw — interop tests fail loudly, they never skip.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseJson, stringifyJson } from '@taskq/core';

export const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
export const PYTHON_DIR = fileURLToPath(new URL('../python/', import.meta.url));

export interface PeerUrls {
  brokerUrl: string;
  backendUrl: string;
  /** Extra environment for the Python side (e.g. CELERY_MAX_PRIORITY). */
  env?: Record<string, string>;
}

function pyEnv(urls: PeerUrls, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, CELERY_BROKER_URL: urls.brokerUrl, CELERY_RESULT_BACKEND: urls.backendUrl, PYTHONDONTWRITEBYTECODE: '1', ...urls.env, ...extra };
}

/** Throws with the install command when Python Celery is missing. */
export async function assertPythonCelery(): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    execFile(PYTHON, ['-c', 'import celery, redis, amqp; print(celery.__version__)'], (error, stdout) => {
      if (error) {
        reject(new Error(`Python Celery is not available for ${PYTHON}: run \`apt-get install -y python3-celery python3-redis python3-amqp\` (${error.message})`));
      } else if (!stdout.startsWith('5.')) reject(new Error(`expected Celery 5.x, found ${stdout.trim()}`));
      else resolve();
    });
  });
}

export interface PythonWorker {
  pid: number;
  /** Everything the worker printed so far (stdout + stderr). */
  output(): string;
  /** Warm shutdown (SIGTERM), waiting for the process to exit. */
  stop(): Promise<void>;
}

/** Start a Celery worker for pyapp consuming `queues`; resolves once it consumes. */
export async function startPythonWorker(urls: PeerUrls, queues: string[], extraArgs: string[] = [], env: Record<string, string> = {}): Promise<PythonWorker> {
  await assertPythonCelery();
  const child = spawn(`${PYTHON_DIR}run_worker.sh`, [queues.join(','), ...extraArgs], {
    env: pyEnv(urls, env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Python worker not ready after 30 s:\n${out}`)), 30_000);
    const check = (): void => {
      if (out.includes('PYAPP-WORKER-READY')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Python worker exited with ${code} before it was ready:\n${out}`));
    });
  });
  return {
    pid: child.pid!,
    output: () => out,
    stop: () => stopChild(child),
  };
}

export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

export interface PythonOutcome {
  task_id: string;
  status: 'SUCCESS' | 'FAILURE' | 'REVOKED' | 'TIMEOUT' | string;
  result?: unknown;
  exc_type?: string;
  exc_module?: string;
  exc_message?: string[];
  traceback?: string | null;
}

export interface PythonSendOptions {
  queue?: string;
  kwargs?: Record<string, unknown>;
  countdown?: number;
  eta?: string;
  expires?: number;
  priority?: number;
  taskId?: string;
  /** Seconds to wait for the result; 0 returns right after publishing. */
  wait?: number;
}

function runPython(script: string, args: string[], urls: PeerUrls, stdin?: string): Promise<PythonOutcome> {
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, [`${PYTHON_DIR}${script}`, ...args], { env: pyEnv(urls), cwd: PYTHON_DIR, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(parseJson(line) as PythonOutcome);
      } catch {
        reject(new Error(`${script} printed no JSON (exit ${error?.code}):\n${stdout}\n${stderr}`));
      }
    });
    child.stdin!.end(stdin ?? '');
  });
}

/** Send a task with Python Celery's `send_task` and (unless wait is 0) wait for its result with `AsyncResult.get()`. */
export function pythonSend(urls: PeerUrls, name: string, args: unknown[], options: PythonSendOptions = {}): Promise<PythonOutcome> {
  const argv = [name, '-'];
  if (options.kwargs) argv.push('--kwargs', stringifyJson(options.kwargs));
  if (options.queue) argv.push('--queue', options.queue);
  if (options.countdown !== undefined) argv.push('--countdown', String(options.countdown));
  if (options.eta) argv.push('--eta', options.eta);
  if (options.expires !== undefined) argv.push('--expires', String(options.expires));
  if (options.priority !== undefined) argv.push('--priority', String(options.priority));
  if (options.taskId) argv.push('--task-id', options.taskId);
  argv.push('--wait', String(options.wait ?? 30));
  return runPython('send.py', argv, urls, stringifyJson(args));
}

/** Read a result with Python Celery's `AsyncResult(id).get()`. */
export function pythonReadResult(urls: PeerUrls, taskId: string, waitSeconds = 30): Promise<PythonOutcome> {
  return runPython('read_result.py', [taskId, '--wait', String(waitSeconds)], urls);
}
