/**
 * One execution of a task message: check expiry, build the context, run the
 * function under its time limits, classify the outcome and store the state
 * (Celery's `app/trace.py`). Shared by the worker and eager mode; acking and
 * publishing retries are the caller's job.
 */
import type { App } from './app.js';
import {
  EncodeError,
  Ignore,
  Reject,
  Retry,
  SoftTimeLimitExceeded,
  TaskNotRegisteredError,
  TaskRevokedError,
  TimeLimitExceeded,
} from './errors.js';
import { serializeError } from './exception-info.js';
import { assertJsonSerialisable } from './json.js';
import { buildTaskMessage, ORIGIN, type TaskMessage } from './message.js';
import type { ResultBackend, ResultMeta, TaskState } from './result-backend.js';
import { backoffCountdown } from './retry-policy.js';
import { makeContext, type Task, type TaskContext, type TaskRequest } from './task.js';
import { naiveUtcNow, parseIsoDate, toCeleryIso } from './time.js';
import { hasWorkflow, runWorkflowCallbacks } from './workflow-callbacks.js';

export interface TraceEnv {
  /** Node name of the executing worker (`name@host`). */
  hostname: string;
  queue?: string;
  redelivered?: boolean;
  eager?: boolean;
  /** Aborted by the caller to stop the task (revoke with terminate, cold shutdown). */
  signal?: AbortSignal;
  /** Worker-wide `[hard, soft]` limits in seconds, used when neither message nor task sets one. */
  timeLimit?: number;
  softTimeLimit?: number;
  /** Called once the task starts running (after expiry checks). */
  onStart?: () => void;
  /** Where to store states (default: the app's result backend). Eager mode keeps its own. */
  backend?: ResultBackend;
}

export type TraceOutcome =
  | { kind: 'success'; value: unknown; runtimeMs: number }
  | { kind: 'failure'; error: unknown; runtimeMs: number; excType: string }
  | { kind: 'retry'; retryMessage: TaskMessage; countdown: number; reason: Retry; runtimeMs: number }
  | { kind: 'revoked'; reason: 'expired' | 'revoked' }
  | { kind: 'reject'; requeue: boolean; reason: string }
  | { kind: 'ignored'; runtimeMs: number };

/**
 * Run one message. Stores SUCCESS/FAILURE/RETRY/REVOKED unless the result is
 * ignored, then runs its workflow (chain, callbacks, errbacks, chord part).
 * Never throws for task errors. A final state the backend fails to store is
 * logged at error and the outcome still returned (the task did run); only a
 * failure to store STARTED (before the task runs) rejects.
 */
export function traceTask(app: App, message: TaskMessage, env: TraceEnv): Promise<TraceOutcome> {
  // A message without a workflow resolves with the trace's own promise (one async wrapper fewer per task).
  if (!hasWorkflow(message)) return runTrace(app, message, env);
  return runTrace(app, message, env).then(async (outcome) => {
    await runWorkflowCallbacks(app, message, outcome, env.backend, env.eager);
    return outcome;
  });
}

/**
 * Not an async function: a task with no time limit is called in the caller's
 * turn (after its STARTED state, when that is stored), and a value it returns
 * is stored and reported without an async frame or an extra turn per task.
 * A task under a time limit takes {@link runWithLimits}.
 */
function runTrace(app: App, message: TaskMessage, env: TraceEnv): Promise<TraceOutcome> {
  try {
    const h = message.headers;
    const task = app.tasks.get(h.task);
    if (!task) return runUnregistered(app, message, env);
    const ignoreResult = h.ignore_result || task.options.ignoreResult === true;
    if (h.expires) {
      const expires = parseIsoDate(h.expires);
      if (expires && expires.getTime() <= Date.now()) return runExpired(app, message, env, task, ignoreResult);
    }
    const hardLimit = h.timelimit[0] ?? task.options.timeLimit ?? env.timeLimit ?? null;
    const softLimit = h.timelimit[1] ?? task.options.softTimeLimit ?? env.softTimeLimit ?? null;
    if (hardLimit !== null || softLimit !== null) return runWithLimits(app, message, env, task, ignoreResult, hardLimit, softLimit);
    if (app.conf.taskTrackStarted && !ignoreResult) {
      return storeState(app, message, env, 'STARTED', undefined, task).then(() => runPlain(app, message, env, task, ignoreResult));
    }
    return runPlain(app, message, env, task, ignoreResult);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Run a task that has no time limit: nothing but the caller aborts it, so it gets the caller's signal as is. */
function runPlain(app: App, message: TaskMessage, env: TraceEnv, task: Task, ignoreResult: boolean): Promise<TraceOutcome> {
  // Only a bound task (`bind: true`) is handed a context; the others never see one, so none is made.
  const ctx = task.options.bind ? traceContext(app, message, env, task, ignoreResult, [null, null], undefined) : UNBOUND;
  const callArgs = callArguments(message);
  env.onStart?.();
  const started = performance.now();
  let returned: unknown;
  try {
    returned = task.run(ctx, callArgs);
  } catch (thrown) {
    return settle(app, message, env, task, ignoreResult, true, thrown, performance.now() - started);
  }
  if (!isThenable(returned)) return settle(app, message, env, task, ignoreResult, false, returned, performance.now() - started);
  return Promise.resolve(returned).then(
    (value) => settle(app, message, env, task, ignoreResult, false, value, performance.now() - started),
    (thrown: unknown) => settle(app, message, env, task, ignoreResult, true, thrown, performance.now() - started),
  );
}

/** A task name this app does not know: FAILURE (NotRegistered). */
async function runUnregistered(app: App, message: TaskMessage, env: TraceEnv): Promise<TraceOutcome> {
  const error = new TaskNotRegisteredError(message.headers.task);
  await storeState(app, message, env, 'FAILURE', error, undefined);
  return { kind: 'failure', error, runtimeMs: 0, excType: 'NotRegistered' };
}

/** Past its `expires`: not run, REVOKED (Celery's "expired"). */
async function runExpired(app: App, message: TaskMessage, env: TraceEnv, task: Task, ignoreResult: boolean): Promise<TraceOutcome> {
  if (!ignoreResult) await storeState(app, message, env, 'REVOKED', new TaskRevokedError('expired'), task);
  return { kind: 'revoked', reason: 'expired' };
}

/** The positional arguments the task function is called with: kwargs ride last when there are any. */
function callArguments(message: TaskMessage): unknown[] {
  const [args, kwargs] = message.body;
  return hasOwnKeys(kwargs) ? [...args, kwargs] : args;
}

/** A task under a hard or soft time limit (its STARTED state stored first, when asked). */
async function runWithLimits(
  app: App,
  message: TaskMessage,
  env: TraceEnv,
  task: Task,
  ignoreResult: boolean,
  hardLimit: number | null,
  softLimit: number | null,
): Promise<TraceOutcome> {
  // The limits abort the task's own controller; the caller's signal aborts it too.
  const controller = new AbortController();
  const onOuterAbort = (): void => controller.abort(env.signal?.reason);
  env.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (env.signal?.aborted) onOuterAbort();
  const ctx = task.options.bind ? traceContext(app, message, env, task, ignoreResult, [hardLimit, softLimit], controller) : UNBOUND;
  const callArgs = callArguments(message);

  if (app.conf.taskTrackStarted && !ignoreResult) await storeState(app, message, env, 'STARTED', undefined, task);
  env.onStart?.();
  const started = performance.now();
  const timers: NodeJS.Timeout[] = [];
  // The task's value, or (failed) its error: two variables, not a record per task.
  let value: unknown;
  let failed = false;
  try {
    value = await runWithinLimits(task, ctx, callArgs, hardLimit, softLimit, controller, timers);
  } catch (thrown) {
    failed = true;
    value = softLimitReason(controller.signal, thrown);
  } finally {
    for (const t of timers) clearTimeout(t);
    env.signal?.removeEventListener('abort', onOuterAbort);
  }
  return settle(app, message, env, task, ignoreResult, failed, value, performance.now() - started);
}

/**
 * The task returned `value` or (failed) threw it: store the state and
 * classify the outcome. Not an async function: a success is one store and
 * one reaction; the failure kinds take {@link settleFailure}.
 */
function settle(app: App, message: TaskMessage, env: TraceEnv, task: Task, ignoreResult: boolean, failed: boolean, value: unknown, runtimeMs: number): Promise<TraceOutcome> {
  if (failed) return settleFailure(app, message, env, task, ignoreResult, value, runtimeMs);
  const success: TraceOutcome = { kind: 'success', value, runtimeMs };
  if (ignoreResult) return Promise.resolve(success);
  try {
    assertJsonSerialisable(value, 'the return value');
  } catch (encodeError) {
    if (!(encodeError instanceof EncodeError)) return Promise.reject(encodeError);
    const outcome: TraceOutcome = { kind: 'failure', error: encodeError, runtimeMs, excType: encodeError.name };
    return storeState(app, message, env, 'FAILURE', encodeError, task).then(() => outcome);
  }
  return storeState(app, message, env, 'SUCCESS', value, task).then(() => success);
}

/** The task threw `error`: Ignore, Reject, Retry (its own or by autoretryFor), or FAILURE. */
async function settleFailure(app: App, message: TaskMessage, env: TraceEnv, task: Task, ignoreResult: boolean, error: unknown, runtimeMs: number): Promise<TraceOutcome> {
  const h = message.headers;
  if (error instanceof Ignore) return { kind: 'ignored', runtimeMs };
  if (error instanceof Reject) return { kind: 'reject', requeue: error.requeue, reason: error.message };
  if (!(error instanceof Retry)) error = autoRetry(task, h.retries, error);
  if (error instanceof Retry) {
    const countdown = error.eta ? Math.max(0, (error.eta.getTime() - Date.now()) / 1000) : (error.countdown ?? task.options.defaultRetryDelay);
    const retryMessage = buildRetryMessage(message, countdown, env);
    if (!ignoreResult) await storeState(app, message, env, 'RETRY', error, task);
    return { kind: 'retry', retryMessage, countdown, reason: error, runtimeMs };
  }
  await storeState(app, message, env, 'FAILURE', error, task);
  return { kind: 'failure', error, runtimeMs, excType: serializeError(error).exception.exc_type };
}

/** Whether an object has an own enumerable key (without the array `Object.keys` makes). */
function hasOwnKeys(o: object): boolean {
  for (const key in o) if (Object.hasOwn(o, key)) return true;
  return false;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

/** Run the task under its soft limit (abort its signal) and hard limit (fail it; its promise is abandoned). */
async function runWithinLimits(
  task: Task,
  ctx: TaskContext,
  callArgs: unknown[],
  hardLimit: number | null,
  softLimit: number | null,
  controller: AbortController,
  timers: NodeJS.Timeout[],
): Promise<unknown> {
  const running = Promise.resolve().then(() => task.run(ctx, callArgs));
  const limits: Promise<never>[] = [];
  if (softLimit !== null) {
    timers.push(setTimeout(() => controller.abort(new SoftTimeLimitExceeded(softLimit)), softLimit * 1000));
  }
  if (hardLimit !== null) {
    limits.push(
      new Promise<never>((_, reject) => {
        timers.push(
          setTimeout(() => {
            const error = new TimeLimitExceeded(hardLimit);
            controller.abort(error);
            reject(error);
          }, hardLimit * 1000),
        );
      }),
    );
    // The function's own promise may settle after the limit; its outcome is dropped.
    running.catch(() => {});
  }
  return limits.length > 0 ? Promise.race([running, ...limits]) : running;
}

/** A failure after the soft limit fired is reported as SoftTimeLimitExceeded (the task was told to stop). */
function softLimitReason(signal: AbortSignal, error: unknown): unknown {
  if (!signal.aborted || !(signal.reason instanceof SoftTimeLimitExceeded)) return error;
  if (error instanceof Retry || error instanceof TimeLimitExceeded) return error;
  return signal.reason;
}

/** `autoretryFor`: decide whether an error retries the task; returns a Retry, or the error to fail with. */
function autoRetry(task: Task, retries: number, error: unknown): unknown {
  const { autoretryFor, maxRetries, retryBackoff, defaultRetryDelay } = task.options;
  if (!autoretryFor.some((cls) => error instanceof cls)) return error;
  if (retries >= maxRetries) return error;
  const countdown = retryBackoff === false ? defaultRetryDelay : backoffCountdown(retries, task.options);
  return new Retry({ countdown, exc: error, message: `Retry in ${countdown}s: ${(error as Error).message}` });
}

/**
 * What `task.run` gets for a task that is not bound: its function is called
 * without a context (see createTask), so the trace makes none.
 */
const UNBOUND = Object.freeze({}) as TaskContext;

/** A bound task's context: the request and the signal are made when the task first reads them. */
function traceContext(
  app: App,
  message: TaskMessage,
  env: TraceEnv,
  task: Task,
  ignoreResult: boolean,
  limits: [number | null, number | null],
  controller: AbortController | undefined,
): TaskContext {
  const request = (): TaskRequest => toRequest(message, env, limits, ignoreResult);
  const signal = controller ? controller.signal : () => env.signal ?? new AbortController().signal;
  return makeContext(app, request, task.options, signal);
}

function toRequest(message: TaskMessage, env: TraceEnv, timeLimit: [number | null, number | null], ignoreResult: boolean): TaskRequest {
  const h = message.headers;
  return {
    id: h.id,
    task: h.task,
    args: message.body[0],
    kwargs: message.body[1],
    retries: h.retries,
    eta: h.eta,
    expires: h.expires,
    hostname: env.hostname,
    rootId: h.root_id,
    parentId: h.parent_id,
    groupId: h.group,
    groupIndex: h.group_index,
    origin: h.origin,
    replyTo: message.properties.reply_to,
    correlationId: message.properties.correlation_id,
    queue: env.queue,
    redelivered: env.redelivered ?? false,
    timeLimit,
    isEager: env.eager ?? false,
    ignoreResult,
  };
}

/** Celery's retry: a new message with the same id, retries + 1, an eta, parent_id = the task itself. */
function buildRetryMessage(message: TaskMessage, countdown: number, env: TraceEnv): TaskMessage {
  const h = message.headers;
  const [args, kwargs, embed] = message.body;
  const eta = new Date(Date.now() + countdown * 1000);
  const next = buildTaskMessage({
    headers: h,
    task: h.task,
    id: h.id,
    args,
    kwargs,
    embed,
    eta: toCeleryIso(eta),
    expires: h.expires,
    retries: h.retries + 1,
    timelimit: h.timelimit,
    rootId: h.root_id,
    parentId: h.id,
    group: h.group,
    groupIndex: h.group_index,
    shadow: h.shadow,
    ignoreResult: h.ignore_result,
    replyTo: message.properties.reply_to,
    origin: env.eager ? h.origin : ORIGIN,
    priority: message.properties.priority,
  });
  next.properties.correlation_id = message.properties.correlation_id;
  next.properties.replaced_task_nesting = 0;
  next.properties.origin = h.origin;
  return next;
}

/**
 * Store `status` for the message. Not an async function (it runs for every
 * task): the backend's promise gets one reaction, which logs a failure —
 * and rethrows it for STARTED, the only state stored before the task runs.
 */
function storeState(app: App, message: TaskMessage, env: TraceEnv, status: TaskState, value: unknown, task: Task | undefined): Promise<void> {
  let stored: Promise<void>;
  try {
    const meta = resultMeta(app, message, env, status, value, task);
    const options = { replyTo: message.properties.reply_to, correlationId: message.properties.correlation_id };
    const id = message.headers.id;
    // Promise.resolve: a backend may hand back another thenable (a native promise passes as is).
    stored = env.backend ? Promise.resolve(env.backend.store(id, meta, options)) : app.getBackend().then((backend) => backend.store(id, meta, options));
  } catch (error) {
    stored = Promise.reject(error);
  }
  return stored.then(undefined, (error: unknown) => storeFailed(app, message, status, error));
}

/** The meta Celery's backends store for a state. */
function resultMeta(app: App, message: TaskMessage, env: TraceEnv, status: TaskState, value: unknown, task: Task | undefined): ResultMeta {
  const h = message.headers;
  let result: unknown = value;
  let traceback: string | null = null;
  if (status === 'FAILURE' || status === 'REVOKED' || status === 'RETRY') {
    const failure = serializeError(value);
    result = status === 'RETRY' ? null : failure.exception;
    traceback = status === 'REVOKED' ? null : failure.traceback;
  }
  if (status === 'STARTED') result = { pid: process.pid, hostname: env.hostname };
  const meta: ResultMeta = {
    status,
    result: result ?? null,
    traceback,
    children: status === 'RETRY' ? [[[h.id, null], null]] : [],
    date_done: status === 'SUCCESS' || status === 'FAILURE' || status === 'REVOKED' ? naiveUtcNow() : null,
  } as ResultMeta;
  if (h.group) meta.group_id = h.group;
  if (h.parent_id) meta.parent_id = h.parent_id;
  if (app.conf.resultExtended) {
    meta.name = task ? h.task : (null as unknown as string);
    meta.args = task ? message.body[0] : (null as unknown as unknown[]);
    meta.kwargs = task ? message.body[1] : (null as unknown as Record<string, unknown>);
    meta.worker = task ? env.hostname : (null as unknown as string);
    meta.retries = task ? h.retries : (null as unknown as number);
    meta.queue = task ? (env.queue ?? null)! : (null as unknown as string);
  }
  meta.task_id = h.id;
  return meta;
}

/** A state the backend did not take. */
function storeFailed(app: App, message: TaskMessage, status: TaskState, error: unknown): void {
  const h = message.headers;
  if (status === 'STARTED') {
    // The task has not run yet: the caller decides what becomes of its message.
    app.log.error({ err: error, taskId: h.id, taskName: h.task, state: status }, `Task ${h.task}[${h.id}] could not store its STARTED state`);
    throw error;
  }
  // The task did run (or was discarded): rethrowing would make the worker dead-letter a message whose
  // work is done. As Celery ("failed to store result"), log it and report the outcome; the result
  // store is at-most-once.
  app.log.error(
    { err: error, taskId: h.id, taskName: h.task, state: status },
    `Task ${h.task}[${h.id}] failed to store result (${status}): ${error instanceof Error ? error.message : String(error)}`,
  );
}

