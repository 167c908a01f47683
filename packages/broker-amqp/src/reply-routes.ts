/**
 * Which reply queue (`reply_to`) each task id belongs to, for the rpc://
 * backend, learned in this process from the AMQP broker: when a task is
 * published (the client side) and when it is delivered (the worker side).
 *
 * Why: core's `ResultBackend.store(taskId, meta)` does not carry the task's
 * `reply_to`, and the rpc:// backend must publish each state to exactly that
 * queue (celery-protocol.md §4.4). Until core passes it explicitly, the
 * broker and the backend of this package meet here. Bounded: the oldest
 * entries are dropped first.
 */

const MAX_ENTRIES = 100_000;
const routes = new Map<string, string>();

/** Remember that `taskId`'s results go to `replyTo`. */
export function rememberReplyTo(taskId: string, replyTo: string | undefined): void {
  if (!replyTo) return;
  routes.delete(taskId);
  routes.set(taskId, replyTo);
  if (routes.size > MAX_ENTRIES) {
    const oldest = routes.keys().next().value;
    if (oldest !== undefined) routes.delete(oldest);
  }
}

/** The reply queue of a task seen by this process, if any. */
export function replyToOf(taskId: string): string | undefined {
  return routes.get(taskId);
}

/** Drop a task's route (its final state was sent). */
export function forgetReplyTo(taskId: string): void {
  routes.delete(taskId);
}
