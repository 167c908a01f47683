/**
 * Helpers of the remote-control and events interop tests: Python Celery's own
 * CLI (`celery -A pyapp inspect|control …`), the taskq CLI, and line-oriented
 * child processes (Celery's event receiver, `taskq events`) whose output the
 * tests wait on.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type PeerUrls, PYTHON, PYTHON_DIR, stopChild } from './python.js';

const CLI = fileURLToPath(new URL('../../../packages/cli/bin/taskq.js', import.meta.url));
/** The taskq CLI runs from here, where the transports resolve (as in an app that installed them). */
const INTEROP_DIR = fileURLToPath(new URL('..', import.meta.url));

export interface CommandRun {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<CommandRun> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code as number) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `celery -A pyapp <args…>` with the peer's broker. */
export function celeryCli(urls: PeerUrls, args: string[]): Promise<CommandRun> {
  return run(PYTHON, ['-m', 'celery', '-A', 'pyapp', ...args], PYTHON_DIR, {
    ...process.env,
    CELERY_BROKER_URL: urls.brokerUrl,
    CELERY_RESULT_BACKEND: urls.backendUrl,
    PYTHONDONTWRITEBYTECODE: '1',
    ...urls.env,
  });
}

/** `taskq <args…>` with an app from the environment (broker URL only). */
export function taskqCli(brokerUrl: string, args: string[]): Promise<CommandRun> {
  return run(process.execPath, [CLI, ...args], INTEROP_DIR, { ...process.env, TASKQ_BROKER_URL: brokerUrl });
}

/** A child process whose stdout lines are collected. */
export interface LineProcess {
  lines: string[];
  /** The lines that parse as JSON objects. */
  json<T = Record<string, unknown>>(): T[];
  stop(): Promise<void>;
}

function lineProcess(child: ChildProcess): LineProcess {
  const lines: string[] = [];
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    partial += d;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal === null) lines.push(`EXITED ${code}: ${err}`);
  });
  return {
    lines,
    json<T>() {
      return lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as T);
    },
    stop: () => stopChild(child, 'SIGINT', 5000),
  };
}

/** Celery's `app.events.Receiver` (python/events_receiver.py); resolves once it consumes. */
export async function startCeleryEventReceiver(urls: PeerUrls): Promise<LineProcess> {
  const child = spawn(PYTHON, [`${PYTHON_DIR}events_receiver.py`], {
    cwd: PYTHON_DIR,
    env: { ...process.env, CELERY_BROKER_URL: urls.brokerUrl, CELERY_RESULT_BACKEND: urls.backendUrl, PYTHONUNBUFFERED: '1', ...urls.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p = lineProcess(child);
  await waitFor(() => p.lines.includes('RECEIVER-READY') || p.lines.some((l) => l.startsWith('EXITED')), 30_000, 'the Celery event receiver');
  if (!p.lines.includes('RECEIVER-READY')) throw new Error(`the Celery event receiver did not start: ${p.lines.join('\n')}`);
  return p;
}

/** `taskq events --json` as a child process. */
export function startTaskqEvents(brokerUrl: string): LineProcess {
  const child = spawn(process.execPath, [CLI, 'events', '--json'], {
    cwd: INTEROP_DIR,
    env: { ...process.env, TASKQ_BROKER_URL: brokerUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return lineProcess(child);
}

/** Poll until `check` holds (every 50 ms), or throw naming what was awaited. */
export async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
