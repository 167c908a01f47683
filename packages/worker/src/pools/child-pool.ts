/**
 * The threads and process pools: `size` worker threads or forked child
 * processes, each with its own copy of the app (loaded from the app module)
 * and its own result backend connection, running one task at a time (Celery's
 * prefork pool). The main process hands a task only to an idle child — never
 * queues it behind a running one, which is Celery's `-O fair` — and keeps the
 * hard time limit: past it the thread is terminated or the child SIGKILLed,
 * FAILURE TimeLimitExceeded is stored from here, and a fresh child takes its
 * place. Children are also recycled after `maxTasksPerChild` tasks or once
 * they use more than `maxMemoryPerChild` KiB.
 */
import { type App, type Logger, type ResultBackend, TaskRevokedError, type TraceOutcome, TimeLimitExceeded } from '@taskq/core';
import { WorkerLostError } from '../errors.js';
import { emitOutcome } from '../run-task.js';
import { storeFinalState } from '../store-state.js';
import { type FromChild, fromWireError, fromWireOutcome, toWireError, type WireEnv } from './child-protocol.js';
import { type Executor, planSpawn, type SpawnPlan, spawnProcess, spawnThread } from './executors.js';
import type { Pool, PoolJob, PoolResult } from './pool.js';

export interface ChildPoolOptions {
  kind: 'threads' | 'process';
  /** Absolute path (or package specifier) of the module exporting the app. */
  appModule: string;
  /** Children kept (the worker's concurrency, or autoscale's maximum). */
  size: number;
  hostname: string;
  /** Replace a child after this many tasks. */
  maxTasksPerChild?: number | undefined;
  /** Replace a child once its memory (RSS for a process, V8 heap for a thread) exceeds this many KiB after a task. */
  maxMemoryPerChild?: number | undefined;
  /** Children store states through this process (its backend is in-process: memory://). */
  proxyResults: boolean;
  /** Where states of killed tasks are stored when the job's env has no backend. */
  backend: ResultBackend;
  log: Logger;
}

type SlotState = 'starting' | 'idle' | 'busy' | 'retiring' | 'dead';

interface Slot {
  readonly exec: Executor;
  state: SlotState;
  tasks: number;
  job: Running | undefined;
  idleSince: number;
}

interface Waiter {
  job: PoolJob;
  resolve(result: PoolResult): void;
  reject(error: unknown): void;
}

interface Running {
  readonly id: number;
  readonly waiter: Waiter;
  readonly slot: Slot;
  readonly startedAt: number;
  timer: NodeJS.Timeout | undefined;
  onAbort: (() => void) | undefined;
  done: boolean;
}

/** Milliseconds to wait before spawning again after a child failed to start (a broken app module must not spin). */
const RESPAWN_BACKOFF_MS = 1000;
/** A retiring child gets this long to close its connections before it is killed. */
const RETIRE_GRACE_MS = 5000;

export class ChildPool implements Pool {
  readonly kind: 'threads' | 'process';
  private target: number;
  private readonly slots = new Set<Slot>();
  private readonly queue: Waiter[] = [];
  private readonly jobs = new Map<number, Running>();
  private readonly plan: SpawnPlan;
  private nextJob = 0;
  private closed = false;
  private backoffUntil = 0;
  private backoffTimer: NodeJS.Timeout | undefined;
  /** Children started since the pool began (for stats and tests). */
  spawned = 0;

  constructor(
    private readonly app: App,
    private readonly options: ChildPoolOptions,
  ) {
    this.kind = options.kind;
    this.target = options.size;
    this.plan = planSpawn(options.appModule);
  }

  get size(): number {
    return this.target;
  }

  get active(): number {
    return this.jobs.size;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Ids (pid or threadId) of the live children. */
  get childIds(): number[] {
    return [...this.slots].filter((s) => s.state !== 'dead' && s.state !== 'retiring').map((s) => s.exec.id);
  }

  /** Start every child and wait until each has loaded the app; rejects (and kills them) if one cannot. */
  async start(): Promise<void> {
    const ready: Promise<void>[] = [];
    for (let i = 0; i < this.target; i++) ready.push(this.spawn());
    try {
      await Promise.all(ready);
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  apply(job: PoolJob): Promise<PoolResult> {
    if (this.closed) return Promise.resolve({ started: false });
    return new Promise<PoolResult>((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.dispatch();
    });
  }

  cancelWaiting(): number {
    const cancelled = this.queue.splice(0);
    for (const w of cancelled) w.resolve({ started: false });
    return cancelled.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.backoffTimer);
    this.cancelWaiting();
    const gone = [...this.slots].map(
      (slot) =>
        new Promise<void>((resolve) => {
          if (slot.state === 'dead') return resolve();
          slot.exec.onExit(() => resolve());
          slot.exec.kill();
        }),
    );
    await Promise.all(gone);
  }

  resize(size: number): void {
    this.target = size;
    // Shrinking retires idle children first; busy ones retire when their task ends (see settle).
    for (const slot of this.slots) {
      if (this.liveCount() <= this.target) break;
      if (slot.state === 'idle') this.retire(slot);
    }
    this.dispatch();
  }

  /** Idle children beyond `min` that have been idle for `idleMs`: retire them (autoscale's shrink). Returns how many. */
  retireIdle(min: number, idleMs: number): number {
    let n = 0;
    const now = Date.now();
    for (const slot of this.slots) {
      if (this.liveCount() <= min) break;
      if (slot.state === 'idle' && now - slot.idleSince >= idleMs) {
        this.retire(slot);
        n++;
      }
    }
    if (n > 0) this.target = Math.max(min, this.liveCount());
    return n;
  }

  terminate(taskId: string, signal?: NodeJS.Signals): boolean {
    for (const r of this.jobs.values()) {
      if (r.waiter.job.message.headers.id !== taskId || r.done) continue;
      this.options.log.warn({ taskId, child: r.slot.exec.id, signal: signal ?? 'SIGKILL' }, `Terminating task ${r.waiter.job.message.headers.task}[${taskId}]: ${this.what(r.slot)} killed`);
      void this.endByForce(r, 'revoked', signal);
      return true;
    }
    return false;
  }

  private liveCount(): number {
    let n = 0;
    for (const s of this.slots) if (s.state !== 'dead' && s.state !== 'retiring') n++;
    return n;
  }

  private what(slot: Slot): string {
    return this.kind === 'threads' ? `thread ${slot.exec.id}` : `child process ${slot.exec.id}`;
  }

  /** Start one child; resolves once it loaded the app (rejects if it cannot). */
  private spawn(): Promise<void> {
    const exec = this.kind === 'threads' ? spawnThread(this.plan) : spawnProcess(this.plan);
    this.spawned++;
    const slot: Slot = { exec, state: 'starting', tasks: 0, job: undefined, idleSince: Date.now() };
    this.slots.add(slot);
    return new Promise<void>((resolve, reject) => {
      exec.onMessage((message) => {
        if (message.type === 'ready') {
          if (slot.state === 'starting') {
            slot.state = 'idle';
            slot.idleSince = Date.now();
            this.options.log.debug({ child: exec.id, pool: this.kind }, `pool ${this.what(slot)} ready`);
          }
          resolve();
          this.dispatch();
          return;
        }
        if (message.type === 'init-failed') {
          const error = fromWireError(message.error);
          this.options.log.error({ err: error, child: exec.id, appModule: this.options.appModule }, `pool ${this.what(slot)} could not load the app module ${this.options.appModule}: ${error.message}`);
          reject(error);
          this.backoffUntil = Date.now() + RESPAWN_BACKOFF_MS;
          exec.kill();
          return;
        }
        this.onChildMessage(slot, message);
      });
      exec.onExit((how) => {
        const was = slot.state;
        slot.state = 'dead';
        this.slots.delete(slot);
        if (was === 'starting') {
          reject(new WorkerLostError(`pool ${this.what(slot)} exited (${how}) before it loaded the app module ${this.options.appModule}`));
          this.backoffUntil = Math.max(this.backoffUntil, Date.now() + RESPAWN_BACKOFF_MS);
        }
        const r = slot.job;
        if (r && !r.done) {
          this.options.log.error({ child: exec.id, how }, `pool ${this.what(slot)} died (${how}) while it ran ${r.waiter.job.message.headers.task}[${r.waiter.job.message.headers.id}]`);
          void this.endByForce(r, 'lost', undefined, how);
        }
        this.dispatch();
      });
      exec.send({ type: 'init', init: { appModule: this.options.appModule, hostname: this.options.hostname, pool: this.kind, proxyResults: this.options.proxyResults } });
    });
  }

  /** Hand waiting jobs to idle children; start children while below the target size. */
  private dispatch(): void {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (this.queue.length === 0) break;
      if (slot.state === 'idle') this.run(slot, this.queue.shift()!);
    }
    // Keep the pool at its size even when nothing waits (a recycled child is replaced at once), unless spawning failed recently.
    const refill = this.target - this.liveCount();
    if (refill <= 0) return;
    const wait = this.backoffUntil - Date.now();
    if (wait > 0) {
      this.backoffTimer ??= setTimeout(() => {
        this.backoffTimer = undefined;
        this.dispatch();
      }, wait);
      return;
    }
    for (let i = 0; i < refill; i++) this.spawn().catch(() => {});
  }

  private run(slot: Slot, waiter: Waiter): void {
    const { job } = waiter;
    const r: Running = { id: ++this.nextJob, waiter, slot, startedAt: performance.now(), timer: undefined, onAbort: undefined, done: false };
    slot.state = 'busy';
    slot.job = r;
    this.jobs.set(r.id, r);
    const hard = this.hardLimit(job);
    if (hard !== undefined) {
      r.timer = setTimeout(() => {
        this.options.log.error(
          { taskId: job.message.headers.id, taskName: job.message.headers.task, timeLimit: hard, child: slot.exec.id },
          `Hard time limit (${hard}s) exceeded for ${job.message.headers.task}[${job.message.headers.id}]: ${this.what(slot)} killed and replaced`,
        );
        void this.endByForce(r, 'timeout');
      }, hard * 1000);
    }
    const signal = job.env.signal;
    if (signal) {
      r.onAbort = () => slot.exec.send({ type: 'abort', jobId: r.id, reason: toWireError(signal.reason) });
      signal.addEventListener('abort', r.onAbort, { once: true });
    }
    const env: WireEnv = { hostname: job.env.hostname, queue: job.env.queue, redelivered: job.env.redelivered, timeLimit: job.env.timeLimit, softTimeLimit: job.env.softTimeLimit };
    Promise.resolve(job.onStart?.())
      .then(() => {
        if (r.done) return;
        slot.exec.send({ type: 'run', jobId: r.id, message: job.message, env });
        if (signal?.aborted) r.onAbort?.();
      })
      .catch((error: unknown) => {
        this.finishJob(r);
        this.makeIdle(slot);
        waiter.reject(error);
      });
  }

  /** The hard limit that applies to a job, as core's traceTask computes it: message, then task, then worker. */
  private hardLimit(job: PoolJob): number | undefined {
    const fromMessage = job.message.headers.timelimit[0];
    return fromMessage ?? this.app.tasks.get(job.message.headers.task)?.options.timeLimit ?? job.env.timeLimit ?? undefined;
  }

  private onChildMessage(slot: Slot, message: FromChild): void {
    if (message.type === 'store') {
      const r = this.jobs.get(message.jobId);
      const backend = r?.waiter.job.env.backend ?? this.options.backend;
      // A killed task's late writes are dropped: its final state was stored from here.
      const store = r && !r.done ? backend.store(message.taskId, message.meta, message.context) : Promise.resolve();
      store.then(
        () => slot.exec.send({ type: 'stored', reqId: message.reqId }),
        (error: unknown) => slot.exec.send({ type: 'stored', reqId: message.reqId, error: toWireError(error) }),
      );
      return;
    }
    if (message.type !== 'done') return;
    const r = this.jobs.get(message.jobId);
    if (!r || r.done) return;
    this.finishJob(r);
    slot.tasks++;
    const outcome = fromWireOutcome(message.outcome);
    const recycle = this.recycleReason(slot, message.memoryKiB, outcome);
    r.waiter.resolve({ started: true, outcome });
    if (recycle) {
      this.options.log.info({ child: slot.exec.id, tasks: slot.tasks, memoryKiB: message.memoryKiB }, `Replacing pool ${this.what(slot)}: ${recycle}`);
      this.retire(slot);
    } else {
      this.makeIdle(slot);
    }
    this.dispatch();
  }

  private recycleReason(slot: Slot, memoryKiB: number, outcome: TraceOutcome): string | undefined {
    const { maxTasksPerChild, maxMemoryPerChild } = this.options;
    if (outcome.kind === 'failure' && outcome.excType === 'TimeLimitExceeded') return 'its task hit the hard time limit and may still be running';
    if (maxTasksPerChild !== undefined && slot.tasks >= maxTasksPerChild) return `it ran ${slot.tasks} tasks (max tasks per child: ${maxTasksPerChild})`;
    if (maxMemoryPerChild !== undefined && memoryKiB > maxMemoryPerChild) return `it uses ${memoryKiB} KiB (max memory per child: ${maxMemoryPerChild} KiB)`;
    if (this.liveCount() > this.target) return 'the pool shrank';
    return undefined;
  }

  private makeIdle(slot: Slot): void {
    if (slot.state !== 'busy') return;
    slot.job = undefined;
    slot.state = 'idle';
    slot.idleSince = Date.now();
  }

  private finishJob(r: Running): void {
    r.done = true;
    clearTimeout(r.timer);
    if (r.onAbort) r.waiter.job.env.signal?.removeEventListener('abort', r.onAbort);
    this.jobs.delete(r.id);
  }

  /** Let a child finish cleanly (close its connections); kill it if it lingers. */
  private retire(slot: Slot): void {
    if (slot.state === 'dead' || slot.state === 'retiring') return;
    slot.state = 'retiring';
    slot.job = undefined;
    slot.exec.send({ type: 'exit' });
    const timer = setTimeout(() => slot.exec.kill(), RETIRE_GRACE_MS);
    timer.unref();
    slot.exec.onExit(() => clearTimeout(timer));
  }

  /** End a running job without its child's word: hard time limit, terminate, or the child died. Stores the final state from here. */
  private async endByForce(r: Running, why: 'timeout' | 'revoked' | 'lost', signal?: NodeJS.Signals, how?: string): Promise<void> {
    if (r.done) return;
    this.finishJob(r);
    const { slot } = r;
    const { job } = r.waiter;
    if (slot.state !== 'dead') {
      slot.state = 'retiring';
      slot.job = undefined;
      slot.exec.kill(this.kind === 'process' ? (signal ?? 'SIGKILL') : undefined);
      if (signal && signal !== 'SIGKILL') {
        // A child that ignores the signal is killed anyway: the task must stop.
        const t = setTimeout(() => slot.exec.kill('SIGKILL'), RETIRE_GRACE_MS);
        t.unref();
        slot.exec.onExit(() => clearTimeout(t));
      }
    }
    const runtimeMs = performance.now() - r.startedAt;
    let outcome: TraceOutcome;
    let error: Error;
    if (why === 'revoked') {
      error = new TaskRevokedError('terminated');
      outcome = { kind: 'revoked', reason: 'revoked' };
    } else {
      const hard = this.hardLimit(job) ?? 0;
      error = why === 'timeout' ? new TimeLimitExceeded(hard) : new WorkerLostError(`the pool ${this.what(slot)} running the task exited (${how ?? 'unknown'})`);
      outcome = { kind: 'failure', error, runtimeMs, excType: error.name };
    }
    try {
      if (!(why === 'revoked' && (job.message.headers.ignore_result || this.app.tasks.get(job.message.headers.task)?.options.ignoreResult))) {
        await storeFinalState(this.app, job.env.backend ?? this.options.backend, job.message, { hostname: job.env.hostname, queue: job.env.queue }, why === 'revoked' ? 'REVOKED' : 'FAILURE', error);
      }
    } catch (storeError) {
      this.options.log.error({ err: storeError, taskId: job.message.headers.id }, 'could not store the state of a task ended by force');
    }
    emitOutcome(this.app, job.message, outcome, why === 'revoked');
    r.waiter.resolve({ started: true, outcome });
    this.dispatch();
  }
}
