/**
 * Typed lifecycle hooks on the app — Celery's signals (`worker_init`,
 * `worker_process_init`, `task_prerun`, …). They live in core, on the app,
 * so task modules subscribe without importing the worker:
 *
 * ```ts
 * app.signals.on('workerProcessInit', () => { cache = new Map(); });
 * app.signals.on('taskFailure', ({ taskName, error }) => report(taskName, error));
 * ```
 *
 * Task signals fire where the task runs: in the worker's process for the
 * async and solo pools, in the thread or child process for the threads and
 * process pools (whose app is the one their module creates, so handlers
 * registered at module level fire there too).
 */
import type { TaskRequest } from './task.js';

/** What each signal's handlers receive. */
export interface SignalPayloads {
  /** The worker started, before it consumes (Celery's `worker_init`). Fires in the worker's main process. */
  workerInit: { hostname: string; pool: string; concurrency: number };
  /**
   * A process or thread that runs tasks is ready (Celery's `worker_process_init`):
   * once in each thread or child of the threads/process pools, and once in the
   * worker's own process for the async and solo pools. Set up per-process state here.
   */
  workerProcessInit: { hostname: string; pool: string; pid: number; threadId: number };
  /** The worker stopped consuming and is about to close (Celery's `worker_shutdown`). */
  workerShutdown: { hostname: string };
  /** A task is about to run (Celery's `task_prerun`), after expiry and revocation checks. */
  taskPrerun: { taskId: string; taskName: string; args: unknown[]; kwargs: Record<string, unknown>; request: TaskRequest | undefined };
  /** A task ran, whatever its outcome (Celery's `task_postrun`), after the outcome's own signal. */
  taskPostrun: { taskId: string; taskName: string; state: 'SUCCESS' | 'FAILURE' | 'RETRY' | 'REVOKED' | 'REJECTED' | 'IGNORED'; retval: unknown };
  /** A task returned (Celery's `task_success`). */
  taskSuccess: { taskId: string; taskName: string; result: unknown; runtimeMs: number };
  /** A task failed (Celery's `task_failure`), including a hard time limit kill. */
  taskFailure: { taskId: string; taskName: string; error: unknown; excType: string };
  /** A task asked to be retried (Celery's `task_retry`). */
  taskRetry: { taskId: string; taskName: string; reason: Error; countdown: number };
  /** A task was revoked, terminated or expired (Celery's `task_revoked`). */
  taskRevoked: { taskId: string; taskName: string; reason: 'revoked' | 'terminated' | 'expired'; terminated: boolean; expired: boolean };
}

/** A signal's name. */
export type SignalName = keyof SignalPayloads;

/** A handler; it may be async, but the sender does not wait for it. */
export type SignalHandler<K extends SignalName> = (payload: SignalPayloads[K]) => void | Promise<void>;

/** Called when a handler throws or rejects (the sender carries on, as Celery's `send_robust`). */
export type SignalErrorHandler = (error: unknown, signal: SignalName) => void;

/**
 * The app's signal hub. `on()` returns an unsubscribe function; `emit()` calls
 * the handlers in registration order and never throws: a failing handler is
 * reported to `onError` (the app logs it) and the others still run.
 */
export class Signals {
  private readonly handlers = new Map<SignalName, Set<SignalHandler<never>>>();

  constructor(private readonly onError: SignalErrorHandler = () => {}) {}

  /** Subscribe; returns a function that unsubscribes. */
  on<K extends SignalName>(signal: K, handler: SignalHandler<K>): () => void {
    let set = this.handlers.get(signal);
    if (!set) {
      set = new Set();
      this.handlers.set(signal, set);
    }
    set.add(handler as SignalHandler<never>);
    return () => this.off(signal, handler);
  }

  /** Subscribe for the next emission only. */
  once<K extends SignalName>(signal: K, handler: SignalHandler<K>): () => void {
    const off = this.on(signal, (payload) => {
      off();
      return handler(payload);
    });
    return off;
  }

  off<K extends SignalName>(signal: K, handler: SignalHandler<K>): void {
    this.handlers.get(signal)?.delete(handler as SignalHandler<never>);
  }

  /** Whether anything listens (lets senders skip building a payload on the hot path). */
  has(signal: SignalName): boolean {
    return (this.handlers.get(signal)?.size ?? 0) > 0;
  }

  /** Call every handler of `signal`; errors (thrown or rejected) go to the error handler. */
  emit<K extends SignalName>(signal: K, payload: SignalPayloads[K]): void {
    const set = this.handlers.get(signal);
    if (!set || set.size === 0) return;
    for (const handler of [...set]) {
      try {
        const r = (handler as SignalHandler<K>)(payload);
        if (r && typeof (r as Promise<void>).then === 'function') (r as Promise<void>).catch((error: unknown) => this.onError(error, signal));
      } catch (error) {
        this.onError(error, signal);
      }
    }
  }

  /**
   * Call every handler and wait for the async ones (used for the init and
   * shutdown signals, so per-process set-up finishes before tasks run).
   */
  async emitAndWait<K extends SignalName>(signal: K, payload: SignalPayloads[K]): Promise<void> {
    const set = this.handlers.get(signal);
    if (!set || set.size === 0) return;
    for (const handler of [...set]) {
      try {
        await (handler as SignalHandler<K>)(payload);
      } catch (error) {
        this.onError(error, signal);
      }
    }
  }

  /** Remove every handler (tests). */
  clear(): void {
    this.handlers.clear();
  }
}
