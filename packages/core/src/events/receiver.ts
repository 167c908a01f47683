/**
 * Reads Celery events (Celery's `app.events.Receiver`): listens on the
 * `celeryev` exchange with a binding pattern and hands over each event —
 * single events and the `task.multi` batches Celery workers send.
 */
import { randomUUID } from 'node:crypto';
import type { BroadcastSubscription, Fanout } from '../broadcast.js';
import { type CeleryEvent, EVENT_EXCHANGE } from './event.js';

export interface EventReceiverOptions {
  fanout: Fanout;
  /** Topic binding key (default `#`: every event; `worker.#` for worker events only). */
  bindingKey?: string;
  /** Called for each event, in arrival order. */
  onEvent: (event: CeleryEvent) => void;
}

/** A running receiver; `close()` stops it. */
export class EventReceiver {
  private subscription: BroadcastSubscription | undefined;
  /** The receiver's queue (`celeryev.<uuid>`, as Celery names it). */
  readonly queue = `celeryev.${randomUUID()}`;

  constructor(private readonly options: EventReceiverOptions) {}

  async start(): Promise<void> {
    this.subscription = await this.options.fanout.subscribe(
      // Celery's receiver queue: auto-deleted; messages older than 5 s are of no use to a live monitor.
      { exchange: EVENT_EXCHANGE, bindingKey: this.options.bindingKey ?? '#', queue: this.queue, queueArguments: { 'x-message-ttl': 5000, 'x-expires': 60_000 } },
      (m) => {
        for (const event of eventsOf(m.body)) this.options.onEvent(event);
      },
    );
  }

  async close(): Promise<void> {
    const s = this.subscription;
    this.subscription = undefined;
    await s?.close();
  }
}

/** The events in a message body: one object, or an array of them (`task.multi`). */
export function eventsOf(body: unknown): CeleryEvent[] {
  const items = Array.isArray(body) ? body : [body];
  return items.filter((e): e is CeleryEvent => e !== null && typeof e === 'object' && !Array.isArray(e) && typeof (e as { type?: unknown }).type === 'string');
}
