/**
 * One error hierarchy for all of taskq. Every error has a stable `code`
 * (`TASKQ_ERR_<AREA>_<WHAT>`) and a message that says what happened and what to do.
 */

export interface TaskqErrorOptions {
  cause?: unknown;
}

/** Base class of every error taskq throws. Match on `code`, or use {@link isTaskqError}. */
export class TaskqError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options: TaskqErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

/** Invalid configuration: bad URL, unknown option value, conflicting settings. */
export class ConfigError extends TaskqError {
  constructor(message: string, options?: TaskqErrorOptions) {
    super('TASKQ_ERR_CONFIG', message, options);
  }
}

/** Invalid options passed to `applyAsync` / `delay` (priority out of range, eta and countdown together…). */
export class InvalidTaskOptionsError extends TaskqError {
  constructor(message: string, options?: TaskqErrorOptions) {
    super('TASKQ_ERR_TASK_OPTIONS', message, options);
  }
}

/** No transport is registered for a URL scheme. */
export class UnknownTransportError extends TaskqError {
  constructor(message: string) {
    super('TASKQ_ERR_TRANSPORT_UNKNOWN', message);
  }
}

/** The transport package for a URL scheme is not installed. */
export class TransportNotInstalledError extends TaskqError {
  readonly packageName: string;
  constructor(scheme: string, packageName: string, options?: TaskqErrorOptions) {
    super(
      'TASKQ_ERR_TRANSPORT_NOT_INSTALLED',
      `${scheme}:// needs ${packageName}, which is not installed — run \`pnpm add ${packageName}\` (or npm install ${packageName}) in your app.`,
      options,
    );
    this.packageName = packageName;
  }
}

/** The broker could not be reached or the connection was lost. Retryable. */
export class BrokerConnectionError extends TaskqError {
  constructor(message: string, options?: TaskqErrorOptions) {
    super('TASKQ_ERR_BROKER_CONNECTION', message, options);
  }
}

/** The broker refused an operation (bad declaration, unroutable message…). Not retryable as is. */
export class BrokerChannelError extends TaskqError {
  constructor(message: string, options?: TaskqErrorOptions) {
    super('TASKQ_ERR_BROKER_CHANNEL', message, options);
  }
}

/** Base of encoding and decoding failures. */
export class SerializationError extends TaskqError {}

/** A value could not be encoded (not JSON-serialisable). Nothing was sent. */
export class EncodeError extends SerializationError {
  constructor(message: string, options?: TaskqErrorOptions) {
    super('TASKQ_ERR_ENCODE', message, options);
  }
}

/** A message or result could not be decoded. `field` names the part that is wrong. */
export class DecodeError extends SerializationError {
  readonly field: string;
  constructor(field: string, message: string, options?: TaskqErrorOptions) {
    super('TASKQ_ERR_DECODE', `malformed message: ${field}: ${message}`, options);
    this.field = field;
  }
}

/** A message with a content type that is not accepted (only application/json is). */
export class ContentDisallowedError extends SerializationError {
  constructor(contentType: string) {
    super(
      'TASKQ_ERR_CONTENT_DISALLOWED',
      `content type ${JSON.stringify(contentType)} is not accepted; taskq speaks application/json (Celery's default serializer)`,
    );
  }
}

/** Waiting for a result took longer than the timeout. The task may still complete later. */
export class TimeoutError extends TaskqError {
  constructor(message: string) {
    super('TASKQ_ERR_TIMEOUT', message);
  }
}

/** A task name that is not registered in the app (Celery's NotRegistered). */
export class TaskNotRegisteredError extends TaskqError {
  readonly taskName: string;
  constructor(taskName: string) {
    super(
      'TASKQ_ERR_TASK_NOT_REGISTERED',
      `task ${JSON.stringify(taskName)} is not registered in this app — register it with app.task(${JSON.stringify(taskName)}, fn) in a module the worker loads, or check the name`,
    );
    this.taskName = taskName;
  }
}

/** A task name registered twice with different implementations. */
export class TaskAlreadyRegisteredError extends TaskqError {
  constructor(taskName: string) {
    super('TASKQ_ERR_TASK_DUPLICATE', `task ${JSON.stringify(taskName)} is already registered in this app`);
  }
}

/**
 * A task failed; thrown by `AsyncResult.get()`. `excType`, `excModule` and the
 * message come from the stored result, so failures of Python tasks keep their
 * Python type name (`ValueError`), and taskq failures keep their JS name.
 */
export class TaskFailedError extends TaskqError {
  readonly taskId: string;
  readonly excType: string;
  readonly excModule: string | null;
  readonly excMessage: unknown[];
  readonly remoteTraceback: string | null;
  readonly state: string;

  constructor(init: {
    taskId: string;
    excType: string;
    excModule: string | null;
    excMessage: unknown[];
    traceback: string | null;
    state: string;
  }) {
    const text = init.excMessage.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(', ');
    super('TASKQ_ERR_TASK_FAILED', `${init.excType}: ${text}`);
    this.taskId = init.taskId;
    this.excType = init.excType;
    this.excModule = init.excModule;
    this.excMessage = init.excMessage;
    this.remoteTraceback = init.traceback;
    this.state = init.state;
  }
}

/** Thrown inside a task to ask for a retry (what `ctx.retry()` throws). Celery's `Retry`. */
export class Retry extends Error {
  readonly countdown: number | undefined;
  readonly eta: Date | undefined;
  readonly exc: unknown;
  override readonly name = 'Retry';
  constructor(init: { message?: string; countdown?: number; eta?: Date; exc?: unknown } = {}) {
    super(init.message ?? `Retry in ${init.countdown !== undefined ? `${init.countdown}s` : 'default delay'}`);
    this.countdown = init.countdown;
    this.eta = init.eta;
    this.exc = init.exc;
  }
}

/** Retries exhausted: the task failed more than `maxRetries` times. Celery's MaxRetriesExceededError. */
export class MaxRetriesExceededError extends TaskqError {
  constructor(taskName: string, taskId: string, maxRetries: number) {
    super(
      'TASKQ_ERR_MAX_RETRIES',
      `can't retry ${taskName}[${taskId}]: max retries (${maxRetries}) exceeded`,
    );
  }
}

/** Thrown inside a task to reject its message (`requeue` puts it back). Celery's `Reject`. */
export class Reject extends Error {
  override readonly name = 'Reject';
  readonly requeue: boolean;
  constructor(reason = 'rejected', requeue = false) {
    super(reason);
    this.requeue = requeue;
  }
}

/** Thrown inside a task to end it without storing a state. Celery's `Ignore`. */
export class Ignore extends Error {
  override readonly name = 'Ignore';
}

/** The task ran past its soft time limit; its AbortSignal was aborted with this reason. */
export class SoftTimeLimitExceeded extends Error {
  override readonly name = 'SoftTimeLimitExceeded';
  constructor(seconds: number) {
    super(`soft time limit (${seconds}s) exceeded`);
  }
}

/** The task ran past its hard time limit and was stopped. */
export class TimeLimitExceeded extends Error {
  override readonly name = 'TimeLimitExceeded';
  constructor(seconds: number) {
    super(`time limit (${seconds}s) exceeded`);
  }
}

/** A task was revoked (or expired) before it ran. Celery's TaskRevokedError. */
export class TaskRevokedError extends TaskqError {
  readonly reason: string;
  constructor(reason: 'revoked' | 'expired' | 'terminated' | string) {
    super('TASKQ_ERR_TASK_REVOKED', reason);
    this.reason = reason;
  }
}

const TASKQ_NAMES = new Set([
  'TaskqError',
  'ConfigError',
  'InvalidTaskOptionsError',
  'UnknownTransportError',
  'TransportNotInstalledError',
  'BrokerConnectionError',
  'BrokerChannelError',
  'SerializationError',
  'EncodeError',
  'DecodeError',
  'ContentDisallowedError',
  'TimeoutError',
  'TaskNotRegisteredError',
  'TaskAlreadyRegisteredError',
  'TaskFailedError',
  'MaxRetriesExceededError',
  'TaskRevokedError',
]);

/**
 * True for taskq errors, also across duplicate copies of `@taskq/core`
 * where `instanceof` fails. With `code`, the code must match too.
 */
export function isTaskqError(error: unknown, code?: string): error is TaskqError {
  if (error instanceof TaskqError) return code === undefined || error.code === code;
  if (!(error instanceof Error)) return false;
  const c = (error as { code?: unknown }).code;
  if (!TASKQ_NAMES.has(error.name) || typeof c !== 'string' || !c.startsWith('TASKQ_ERR_')) return false;
  return code === undefined || c === code;
}
