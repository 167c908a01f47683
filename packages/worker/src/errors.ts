/** Errors the worker itself raises (the rest come from core). */
import { TaskqError } from '@taskq/core';

/**
 * The thread or child process running a task died before reporting its
 * outcome (crashed, killed from outside, out of memory). Celery's
 * `WorkerLostError`; the task is stored as FAILURE with this type.
 */
export class WorkerLostError extends TaskqError {
  constructor(message: string) {
    super('TASKQ_ERR_WORKER_LOST', message);
    this.name = 'WorkerLostError';
  }
}
