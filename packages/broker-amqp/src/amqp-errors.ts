/**
 * amqplib failures → taskq errors. A channel closed by the broker for what
 * we asked (406 PRECONDITION_FAILED, 404 NOT_FOUND, 403 ACCESS_REFUSED) is a
 * BrokerChannelError: retrying as is will not help. A lost connection or
 * channel is a BrokerConnectionError: retryable.
 */
import { BrokerChannelError, BrokerConnectionError, isTaskqError, type TaskqError } from '@taskq/core';
import type { QueueSpec } from './celery-topology.js';

/** The AMQP reply code of an amqplib error (channel or connection close), if any. */
export function replyCode(error: unknown): number | undefined {
  const e = error as { code?: unknown; fields?: { replyCode?: unknown } } | null;
  // amqplib rejects most operations with an Error carrying `code`, but `get` with the raw channel.close frame.
  const code = e?.code ?? e?.fields?.replyCode;
  return typeof code === 'number' ? code : undefined;
}

/** The broker's own text from "Operation failed: X; 406 (PRECONDITION-FAILED) with message "…"". */
function brokerText(error: unknown): string {
  const replyText = (error as { fields?: { replyText?: unknown } } | null)?.fields?.replyText;
  if (typeof replyText === 'string') return replyText;
  const msg = String((error as Error)?.message ?? error);
  const m = /with message "(.*)"$/s.exec(msg);
  return m ? m[1]! : msg;
}

/** Map an amqplib error raised while doing `what` onto a taskq error. */
export function toTaskqError(error: unknown, what: string): TaskqError {
  if (isTaskqError(error)) return error;
  const code = replyCode(error);
  if (code !== undefined && code >= 400 && code < 600 && code !== 320) {
    return new BrokerChannelError(`RabbitMQ refused ${what}: ${brokerText(error)}`, { cause: error });
  }
  return new BrokerConnectionError(`lost the RabbitMQ connection while ${what}: ${(error as Error)?.message ?? error}`, { cause: error });
}

/** True when the error means "the channel or connection went away" (retry on a new one) rather than a refusal. */
export function isConnectionLoss(error: unknown): boolean {
  if (isTaskqError(error)) return error.code === 'TASKQ_ERR_BROKER_CONNECTION';
  const code = replyCode(error);
  return code === undefined || code === 320 || code === 504 || code === 505 || code === 541;
}

/**
 * The 406 of a queue declared with other arguments than the existing queue:
 * say what differs and how to fix it (celery-protocol.md §3.1).
 */
export function declarationMismatchError(spec: QueueSpec, error: unknown): BrokerChannelError {
  const text = brokerText(error);
  const ours = JSON.stringify({ durable: spec.durable, auto_delete: spec.autoDelete, arguments: spec.arguments });
  const arg = /inequivalent arg '([^']+)'/.exec(text)?.[1];
  let fix = `delete the queue (after draining it: \`rabbitmqctl delete_queue ${spec.name}\`) so it is declared anew, or declare it here as it exists`;
  if (arg === 'x-max-priority') {
    fix += ' — align max_priority (broker_transport_options.max_priority; Celery: task_queue_max_priority) on every producer and worker of this queue';
  } else if (arg === 'x-queue-type') {
    fix += ' — align queue_type (broker_transport_options.queue_type) with the existing queue (classic or quorum)';
  } else if (arg === 'durable' || arg === 'auto_delete') {
    fix += ' — Celery declares task queues durable and not auto-delete';
  }
  return new BrokerChannelError(
    `queue ${JSON.stringify(spec.name)} already exists with different settings: ${text}. taskq declared it as ${ours}; ${fix}.`,
    { cause: error },
  );
}
