/**
 * Storing a final state from the worker's main process, for tasks that did
 * not get to store their own: killed at their hard time limit, terminated by
 * a revoke, revoked before they ran, or lost with their thread or child.
 * Same meta as core's `traceTask` writes.
 */
import { type App, type ResultBackend, type ResultMeta, serializeError, type TaskMessage, toNaiveUtcIso } from '@taskq/core';

/** Store FAILURE or REVOKED with `error` for `message`. Errors of the backend propagate. */
export async function storeFinalState(
  app: App,
  backend: ResultBackend,
  message: TaskMessage,
  where: { hostname: string; queue?: string | undefined },
  status: 'FAILURE' | 'REVOKED',
  error: Error,
): Promise<void> {
  const h = message.headers;
  const failure = serializeError(error);
  const meta: ResultMeta = {
    status,
    result: failure.exception,
    traceback: status === 'REVOKED' ? null : failure.traceback,
    children: [],
    date_done: toNaiveUtcIso(new Date()),
    task_id: h.id,
  };
  if (h.group) meta.group_id = h.group;
  if (h.parent_id) meta.parent_id = h.parent_id;
  if (app.conf.resultExtended) {
    meta.name = h.task;
    meta.args = message.body[0];
    meta.kwargs = message.body[1];
    meta.worker = where.hostname;
    meta.retries = h.retries;
    if (where.queue !== undefined) meta.queue = where.queue;
  }
  await backend.store(h.id, meta, { replyTo: message.properties.reply_to, correlationId: message.properties.correlation_id });
}
