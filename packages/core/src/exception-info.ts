/**
 * Failures across the wire: a thrown JS value becomes Celery's
 * `{exc_type, exc_message, exc_module}` so Python can rebuild it, and a stored
 * failure (from either side) becomes a {@link TaskFailedError} in TS.
 */
import { TaskFailedError, TaskRevokedError, isTaskqError } from './errors.js';
import type { ExceptionInfo, ResultMeta } from './result-backend.js';

/** JS error names that exist with the same meaning among Python's builtins. */
const PYTHON_BUILTINS = new Set(['TypeError', 'ValueError', 'KeyError', 'RuntimeError', 'NotImplementedError', 'ZeroDivisionError', 'Exception']);
/** Celery's own exception names, rebuilt by Python from `celery.exceptions`. */
const CELERY_EXCEPTIONS = new Set([
  'SoftTimeLimitExceeded',
  'TimeLimitExceeded',
  'TaskRevokedError',
  'NotRegistered',
  'MaxRetriesExceededError',
  'Retry',
  'Reject',
  'Ignore',
]);

/** Module name written for taskq/JS errors: not importable in Python, so Python synthesises the class by name. */
export const TASKQ_EXC_MODULE = 'taskq';

/** The name a thrown non-Error value is reported under. */
export const NON_ERROR_THROWN = 'NonErrorThrown';

export interface SerializedFailure {
  exception: ExceptionInfo;
  traceback: string | null;
}

export function serializeError(error: unknown): SerializedFailure {
  if (!(error instanceof Error)) {
    let shown: string;
    try {
      shown = typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error));
    } catch {
      shown = String(error);
    }
    return {
      exception: { exc_type: NON_ERROR_THROWN, exc_message: [`task threw a non-Error value: ${shown}`], exc_module: TASKQ_EXC_MODULE },
      traceback: null,
    };
  }
  let name = error.name || 'Error';
  if (error instanceof TaskFailedError) {
    return {
      exception: { exc_type: error.excType, exc_message: error.excMessage, exc_module: error.excModule },
      traceback: error.remoteTraceback ?? error.stack ?? null,
    };
  }
  if (isTaskqError(error, 'TASKQ_ERR_TASK_NOT_REGISTERED')) name = 'NotRegistered';
  const module = CELERY_EXCEPTIONS.has(name) ? 'celery.exceptions' : PYTHON_BUILTINS.has(name) ? 'builtins' : TASKQ_EXC_MODULE;
  const message =
    name === 'NotRegistered' ? [(error as { taskName?: string }).taskName ?? error.message] : [error.message];
  return { exception: { exc_type: name, exc_message: message, exc_module: module }, traceback: error.stack ?? null };
}

export function isExceptionInfo(value: unknown): value is ExceptionInfo {
  return value !== null && typeof value === 'object' && typeof (value as ExceptionInfo).exc_type === 'string';
}

/** The error `AsyncResult.get()` throws for a FAILURE or REVOKED meta. */
export function errorFromMeta(meta: ResultMeta): Error {
  const info = isExceptionInfo(meta.result)
    ? meta.result
    : { exc_type: 'Exception', exc_message: [String(meta.result)], exc_module: null };
  const excMessage = Array.isArray(info.exc_message) ? info.exc_message : [info.exc_message];
  if (meta.status === 'REVOKED' && info.exc_type === 'TaskRevokedError') {
    return new TaskRevokedError(String(excMessage[0] ?? 'revoked'));
  }
  return new TaskFailedError({
    taskId: meta.task_id,
    excType: info.exc_type,
    excModule: info.exc_module ?? null,
    excMessage,
    traceback: meta.traceback,
    state: meta.status,
  });
}
