/**
 * Celery 5.2's AMQP topology, as constants (celery-protocol.md §3.1, §4.4):
 * what a Python worker or producer declares, so taskq declares the very same
 * things and neither side trips over the other's declarations (406).
 */

/** The AMQP default exchange: every queue is bound to it by its own name. Celery publishes tasks here. */
export const DEFAULT_EXCHANGE = '';
/** Celery's exchange type for task queues: a direct exchange named like the queue. */
export const TASK_EXCHANGE_TYPE = 'direct';
/** Persistent delivery (`delivery_mode 2`): task messages survive a broker restart in a durable queue. */
export const DELIVERY_MODE_PERSISTENT = 2;
/** Transient delivery (`delivery_mode 1`): rpc:// results, events, pidbox replies. */
export const DELIVERY_MODE_TRANSIENT = 1;
/** The queue argument that turns on priorities (`task_queue_max_priority`). */
export const MAX_PRIORITY_ARGUMENT = 'x-max-priority';
/** The queue argument that selects the queue type (`quorum` for quorum queues). */
export const QUEUE_TYPE_ARGUMENT = 'x-queue-type';
/** The queue argument that deletes an unused queue after some milliseconds (rpc:// reply queues). */
export const EXPIRES_ARGUMENT = 'x-expires';
/** taskq's dead-letter queue for malformed messages (durable; not a Celery name: Celery has none). */
export const DEAD_LETTER_QUEUE = 'taskq.dead';
/** Header on a dead-lettered message: why it was dead-lettered (the DecodeError message). */
export const DEAD_REASON_HEADER = 'x-taskq-dead-reason';
/** Header on a dead-lettered message: the queue it was taken from. */
export const DEAD_QUEUE_HEADER = 'x-taskq-original-queue';
/** Header on a dead-lettered message: the error code (`TASKQ_ERR_DECODE`, `TASKQ_ERR_CONTENT_DISALLOWED`). */
export const DEAD_CODE_HEADER = 'x-taskq-dead-code';
/** Celery's default `result_expires` (1 day) in ms: the `x-expires` of rpc:// reply queues. */
export const DEFAULT_REPLY_QUEUE_EXPIRES_MS = 86_400_000;

/** How a queue is declared. Celery's task queues: durable, not auto-delete, no arguments unless configured. */
export interface QueueSpec {
  name: string;
  durable: boolean;
  autoDelete: boolean;
  arguments: Record<string, unknown>;
  /** Declare a direct exchange named like the queue and bind the queue to it (Celery's task queues). */
  withExchange: boolean;
}

export interface TaskQueueOptions {
  /** `x-max-priority`; undefined: no priorities (Celery's default). */
  maxPriority?: number | undefined;
  /** `classic` (default) or `quorum`. */
  queueType?: 'classic' | 'quorum' | undefined;
}

/** A task queue exactly as Celery 5.2 declares it: durable direct exchange Q, durable queue Q, binding Q→Q with key Q. */
export function taskQueueSpec(name: string, options: TaskQueueOptions = {}): QueueSpec {
  const args: Record<string, unknown> = {};
  if (options.maxPriority !== undefined) args[MAX_PRIORITY_ARGUMENT] = options.maxPriority;
  if (options.queueType === 'quorum') args[QUEUE_TYPE_ARGUMENT] = 'quorum';
  return { name, durable: true, autoDelete: false, arguments: args, withExchange: true };
}

/** The rpc:// reply queue `<oid>` (§4.4): non-durable, auto-delete, `x-expires` = result_expires in ms. */
export function replyQueueSpec(name: string, expiresMs: number = DEFAULT_REPLY_QUEUE_EXPIRES_MS): QueueSpec {
  return { name, durable: false, autoDelete: true, arguments: { [EXPIRES_ARGUMENT]: Math.max(1, Math.round(expiresMs)) }, withExchange: false };
}

/** The dead-letter queue: durable, no arguments, reached through the default exchange. */
export function deadLetterQueueSpec(name: string = DEAD_LETTER_QUEUE): QueueSpec {
  return { name, durable: true, autoDelete: false, arguments: {}, withExchange: false };
}
