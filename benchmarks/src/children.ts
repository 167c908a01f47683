/** Starting measured children (Node via tsx, and Python Celery workers) and cleaning up after them. */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { ChildMessage, ChildResult, Job } from './protocol.js';

const here = dirname(fileURLToPath(import.meta.url));
export const PYTHON_DIR = join(here, '..', 'python');
export const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

export interface RunningChild {
  ready: Promise<void>;
  go(): void;
  result: Promise<ChildResult>;
}

/** Fork one measured child for `job`; its stdout (task logs) goes to /dev/null. */
export function startChild(job: Job): RunningChild {
  const child = fork(join(here, 'child.ts'), [JSON.stringify(job)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env },
  });
  let onReady!: () => void;
  let fail!: (e: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    fail = reject;
  });
  const result = new Promise<ChildResult>((resolve, reject) => {
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'ready') onReady();
      else if (m.type === 'result') resolve(m.result);
      else if (m.type === 'error') {
        const e = new Error(`${job.system} ${job.role}: ${m.message}`);
        fail(e);
        reject(e);
      }
    });
    child.on('exit', (code) => {
      const e = new Error(`${job.system} ${job.role} exited with ${code} before reporting`);
      fail(e);
      reject(e);
    });
  });
  ready.catch(() => {});
  return { ready, go: () => child.send({ type: 'go' }), result };
}

/** Run one child on its own: ready, go, result. `beforeGo` runs once it is ready (set-up and warm-up done). */
export async function runChild(job: Job, beforeGo?: () => Promise<unknown>): Promise<ChildResult> {
  return (await runTogether([job], beforeGo))[0]!;
}

/** Run several children together, started at the same instant (after `beforeGo`, once all are ready). */
export async function runTogether(jobs: Job[], beforeGo?: () => Promise<unknown>): Promise<ChildResult[]> {
  const cs = jobs.map(startChild);
  await Promise.all(cs.map((c) => c.ready));
  await beforeGo?.();
  for (const c of cs) c.go();
  return Promise.all(cs.map((c) => c.result));
}

/** A Python Celery worker on `queue`, with the given pool (threads on Redis; prefork on RabbitMQ, see main.ts). */
export function startCeleryWorker(env: Record<string, string>, queue: string, concurrency: number, pool: 'threads' | 'prefork' = 'threads'): ChildProcess {
  return spawn(
    PYTHON,
    ['-m', 'celery', '-A', 'bench_app', 'worker', '-Q', queue, '-P', pool, '-c', String(concurrency), '-l', 'error', '--without-gossip', '--without-mingle', '--without-heartbeat', '-n', `bench-${process.pid}@%h`],
    { cwd: PYTHON_DIR, env: { ...process.env, PYTHONWARNINGS: 'ignore', ...env, BENCH_QUEUE: queue }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

/** Peak RSS of a live process (VmHWM), MiB. */
export function peakRssOfPid(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export async function stopProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Key patterns this benchmark writes in its Redis db (never FLUSHDB: delete ours only). */
const KEY_PATTERNS = ['bench*', 'bull:bench*', '_kombu.binding.*', 'unacked*', 'celery-task-meta-*', 'taskq.dead*', '*dead_letter*'];

export async function deleteBenchKeys(redisUrl: string): Promise<number> {
  const r = new Redis(redisUrl, { lazyConnect: false });
  let n = 0;
  try {
    for (const match of KEY_PATTERNS) {
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', match, 'COUNT', 5000);
        cursor = next;
        if (keys.length > 0) n += await r.unlink(...keys);
      } while (cursor !== '0');
    }
  } finally {
    r.disconnect();
  }
  return n;
}
