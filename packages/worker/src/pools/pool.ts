/**
 * The execution pool contract. The worker decides what to run and when to
 * ack; a pool decides where a task runs and how many run at once. The async
 * pool runs tasks in this event loop; thread and process pools (which can
 * kill a task at its hard time limit) implement the same contract.
 */
import type { TaskMessage, TraceEnv, TraceOutcome } from '@taskq/core';

/** One task message to run. */
export interface PoolJob {
  readonly message: TaskMessage;
  /** Passed to core's `traceTask`: hostname, queue, limits, the abort signal, the backend. */
  readonly env: TraceEnv;
  /**
   * Called when the job takes a slot, just before it runs. The worker acks
   * early here (Celery acks when the pool accepts the task), so a job still
   * waiting for a slot can be handed back to the broker on shutdown.
   */
  onStart?(): Promise<void> | void;
}

/** What became of a job: it ran (with its outcome), or it was cancelled before it took a slot. */
export type PoolResult = { started: true; outcome: TraceOutcome } | { started: false };

export interface Pool {
  /** Pool implementation name, as in the banner: 'async', 'solo', 'threads', 'process'. */
  readonly kind: string;
  /** Jobs that may run at once (the worker's concurrency; changes with autoscale). */
  readonly size: number;
  /** Jobs running now. */
  readonly active: number;
  /** Jobs waiting for a slot. */
  readonly waiting: number;
  /** Run a job once a slot is free. Rejects only for errors of the pool itself, never for task errors. */
  apply(job: PoolJob): Promise<PoolResult>;
  /** Cancel every job still waiting for a slot: their `apply` resolves `{ started: false }`. Returns how many. */
  cancelWaiting(): number;
  /** Release the pool's resources. Running jobs are the worker's to stop (through their abort signals) first. */
  close(): Promise<void>;
  /** Start the pool's threads/children before the worker consumes; rejects when they cannot load the app. */
  start?(): Promise<void>;
  /**
   * Stop the running task with this id by force (revoke with terminate):
   * terminate its thread or signal its child. Its `apply` resolves with a
   * `revoked` outcome and REVOKED ('terminated') is stored. False when the
   * task does not run here or the pool cannot kill (async: the worker aborts
   * the task's signal instead).
   */
  terminate?(taskId: string, signal?: NodeJS.Signals): boolean;
  /** Change how many jobs may run at once (autoscale). */
  resize?(size: number): void;
}
