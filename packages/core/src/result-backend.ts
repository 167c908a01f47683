/**
 * The result store contract, and Celery's result meta: what Python's
 * `AsyncResult` reads and what taskq writes.
 */
import type { ChordPart, ChordPartOutcome, GroupMeta } from './canvas-backend.js';

export const TASK_STATES = ['PENDING', 'RECEIVED', 'STARTED', 'SUCCESS', 'FAILURE', 'RETRY', 'REVOKED'] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** States after which a task will not change any more. */
export const READY_STATES: ReadonlySet<TaskState> = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);
/** Ready states that are not success. */
export const EXCEPTION_STATES: ReadonlySet<TaskState> = new Set(['FAILURE', 'REVOKED', 'RETRY']);

/** A failure as Celery stores it, so Python can rebuild the exception. */
export interface ExceptionInfo {
  exc_type: string;
  exc_message: unknown[];
  exc_module: string | null;
}

/** Celery's result meta, field for field (snake_case: it is the stored JSON). */
export interface ResultMeta {
  status: TaskState;
  result: unknown;
  traceback: string | null;
  children: unknown[];
  date_done: string | null;
  task_id: string;
  parent_id?: string | null;
  group_id?: string | null;
  name?: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  worker?: string;
  retries?: number;
  queue?: string;
  [extra: string]: unknown;
}

/** Where a state goes besides the task id: what the rpc:// backend needs to address its reply. */
export interface StoreContext {
  /** The sender's reply queue (`properties.reply_to`, the app's oid). */
  replyTo?: string;
  /** `properties.correlation_id` of the task message (the task id). */
  correlationId?: string;
}

export interface WaitOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface ResultBackend {
  /** Short backend name: 'memory', 'redis', 'rpc'. */
  readonly backend: string;
  connect(): Promise<void>;
  close(): Promise<void>;
  /**
   * Store a state. A stored SUCCESS is never overwritten (Celery's rule).
   * `context` carries the message's reply address (used by rpc://).
   */
  store(taskId: string, meta: ResultMeta, context?: StoreContext): Promise<void>;
  /** The stored meta, or undefined when nothing is stored (PENDING). */
  get(taskId: string): Promise<ResultMeta | undefined>;
  /** Resolve with the meta once the task is in a ready state; throws TimeoutError after `timeoutMs`. */
  wait(taskId: string, options: WaitOptions): Promise<ResultMeta>;
  forget(taskId: string): Promise<void>;
  /** Canvas (optional): save a group's member ids under `celery-taskset-meta-<gid>` (Celery's `GroupResult.save()`). */
  saveGroup?(groupId: string, meta: GroupMeta): Promise<void>;
  /** Canvas (optional): a saved group, or undefined. */
  restoreGroup?(groupId: string): Promise<GroupMeta | undefined>;
  /** Canvas (optional): delete a saved group. */
  deleteGroup?(groupId: string): Promise<void>;
  /** Canvas (optional): record a chord header's size before its members are sent (Celery's `set_chord_size`). */
  setChordSize?(groupId: string, size: number): Promise<void>;
  /**
   * Canvas (optional): record one finished chord header member and tell
   * whether it completed the header; the caller that gets `complete: true`
   * (exactly one) sends the chord's callback. Backends without it cannot run chords.
   */
  onChordPartReturn?(part: ChordPart): Promise<ChordPartOutcome>;
}
