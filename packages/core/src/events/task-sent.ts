/**
 * Client-side `task-sent` events (Celery's `task_send_sent_event`): after a
 * task message is published, monitors learn its name, arguments and route.
 * Best effort: a failure to send the event is logged, never the caller's.
 */
import os from 'node:os';
import type { Broker, PublishRoute } from '../broker.js';
import type { Logger } from '../logger.js';
import type { TaskMessage } from '../message.js';
import { argsRepr, kwargsRepr } from '../python-repr.js';
import { EventSender } from './event.js';

const senders = new WeakMap<Broker, EventSender>();

/** The fields Celery puts in task-sent. */
export function taskSentFields(message: TaskMessage, route: PublishRoute): Record<string, unknown> {
  const h = message.headers;
  const queue = route.routingKey ?? route.queue;
  return {
    uuid: h.id,
    root_id: h.root_id,
    parent_id: h.parent_id,
    name: h.task,
    args: h.argsrepr || argsRepr(message.body[0]),
    kwargs: h.kwargsrepr || kwargsRepr(message.body[1]),
    retries: h.retries,
    eta: h.eta,
    expires: h.expires,
    queue: route.queue,
    exchange: route.exchange ?? '',
    routing_key: queue,
  };
}

/** Send `task-sent` for published messages (no-op when the broker cannot broadcast). */
export async function sendTaskSentEvents(broker: Broker, sent: ReadonlyArray<{ message: TaskMessage; route: PublishRoute }>, log: Logger): Promise<void> {
  if (!broker.fanout) return;
  let sender = senders.get(broker);
  if (!sender) {
    // Celery names a producer's events after the process: gen<pid>@<host>.
    sender = new EventSender({ fanout: broker.fanout(), hostname: `gen${process.pid}@${os.hostname()}` });
    senders.set(broker, sender);
  }
  try {
    for (const { message, route } of sent) await sender.send('task-sent', taskSentFields(message, route));
  } catch (error) {
    log.warn({ err: error }, 'could not send the task-sent event');
  }
}
