/**
 * `traceTask` with the app's task signals around it (Celery's `task_prerun`,
 * `task_success`, `task_failure`, `task_retry`, `task_revoked`,
 * `task_postrun`). Every pool runs tasks through this, in the process or
 * thread where the task runs, so handlers fire there — as in Celery.
 */
import { type App, type TaskMessage, type TraceEnv, type TraceOutcome, traceTask } from '@taskq/core';

const POSTRUN_STATE = {
  success: 'SUCCESS',
  failure: 'FAILURE',
  retry: 'RETRY',
  revoked: 'REVOKED',
  reject: 'REJECTED',
  ignored: 'IGNORED',
} as const;

/** Run one message through `traceTask`, emitting the task signals on `app.signals`. */
export function runTask(app: App, message: TaskMessage, env: TraceEnv): Promise<TraceOutcome> {
  const signals = app.signals;
  // Without handlers, the trace's own promise (no async wrapper: one fewer promise per task).
  if (!signals.has('taskPrerun') && !signals.has('taskPostrun') && !hasOutcomeHandlers(app)) return traceTask(app, message, env);
  return runTaskWithSignals(app, message, env);
}

async function runTaskWithSignals(app: App, message: TaskMessage, env: TraceEnv): Promise<TraceOutcome> {
  const signals = app.signals;
  const h = message.headers;
  const prerun = signals.has('taskPrerun');
  // Delegates rather than spreads: the worker's env makes its signal on first use (a getter a spread would drop).
  const traced: TraceEnv = prerun
    ? {
        hostname: env.hostname,
        queue: env.queue,
        redelivered: env.redelivered,
        eager: env.eager,
        get signal() {
          return env.signal;
        },
        timeLimit: env.timeLimit,
        softTimeLimit: env.softTimeLimit,
        backend: env.backend,
        onStart: () => {
          signals.emit('taskPrerun', { taskId: h.id, taskName: h.task, args: message.body[0], kwargs: message.body[1], request: undefined });
          env.onStart?.();
        },
      }
    : env;
  const outcome = await traceTask(app, message, traced);
  emitOutcome(app, message, outcome);
  return outcome;
}

function hasOutcomeHandlers(app: App): boolean {
  const s = app.signals;
  return s.has('taskSuccess') || s.has('taskFailure') || s.has('taskRetry') || s.has('taskRevoked');
}

/** The outcome's own signal, then `taskPostrun`. Also used by the parent for tasks it ends itself (killed, revoked). */
export function emitOutcome(app: App, message: TaskMessage, outcome: TraceOutcome, terminated = false): void {
  const signals = app.signals;
  const taskId = message.headers.id;
  const taskName = message.headers.task;
  let retval: unknown;
  switch (outcome.kind) {
    case 'success':
      retval = outcome.value;
      signals.emit('taskSuccess', { taskId, taskName, result: outcome.value, runtimeMs: outcome.runtimeMs });
      break;
    case 'failure':
      retval = outcome.error;
      signals.emit('taskFailure', { taskId, taskName, error: outcome.error, excType: outcome.excType });
      break;
    case 'retry':
      retval = outcome.reason;
      signals.emit('taskRetry', { taskId, taskName, reason: outcome.reason, countdown: outcome.countdown });
      break;
    case 'revoked': {
      const reason = terminated ? 'terminated' : outcome.reason;
      signals.emit('taskRevoked', { taskId, taskName, reason, terminated, expired: reason === 'expired' });
      break;
    }
    default:
      break;
  }
  signals.emit('taskPostrun', { taskId, taskName, state: POSTRUN_STATE[outcome.kind], retval });
}
