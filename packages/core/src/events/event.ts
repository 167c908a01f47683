/**
 * Celery's monitoring events (celery-protocol.md §6): the `celeryev` topic
 * exchange, routing keys, and the event objects — sent by workers (and by
 * clients for `task-sent`) and read by monitors (`celery events`, Flower,
 * `taskq events`).
 */
import os from 'node:os';
import type { BroadcastMessage, ExchangeSpec, Fanout } from '../broadcast.js';
import { LamportClock } from '../control/pidbox.js';

/** The events exchange: topic, durable (as Celery declares it). */
export const EVENT_EXCHANGE: ExchangeSpec = Object.freeze({ name: 'celeryev', type: 'topic', durable: true });

/** Seconds between worker heartbeats (Celery's `freq`). */
export const HEARTBEAT_FREQ = 2.0;

/** Celery's event types. */
export type TaskEventType = 'task-sent' | 'task-received' | 'task-started' | 'task-succeeded' | 'task-failed' | 'task-retried' | 'task-revoked' | 'task-rejected';
export type WorkerEventType = 'worker-online' | 'worker-heartbeat' | 'worker-offline';
export type EventType = TaskEventType | WorkerEventType;

/** An event as it travels: Celery's common fields plus the type's own. */
export interface CeleryEvent {
  type: string;
  hostname: string;
  utcoffset: number;
  pid: number;
  clock: number;
  /** Unix seconds (float). */
  timestamp: number;
  uuid?: string;
  [field: string]: unknown;
}

/** The routing key of an event type: the first `-` becomes a dot (`worker-heartbeat` → `worker.heartbeat`). */
export function eventRoutingKey(type: string): string {
  return type.replace('-', '.');
}

/** Hours west of UTC, as Python's `time.timezone // 3600` (Celery's `utcoffset()`). */
export function utcOffsetHours(at = new Date()): number {
  return Math.floor(at.getTimezoneOffset() / 60);
}

/** Build an event with Celery's field order: hostname, utcoffset, pid, clock, the type's fields, timestamp, type. */
export function buildEvent(type: string, fields: Record<string, unknown>, sender: { hostname: string; clock: number; pid?: number; timestamp?: number }): CeleryEvent {
  return {
    hostname: sender.hostname,
    utcoffset: utcOffsetHours(),
    pid: sender.pid ?? process.pid,
    clock: sender.clock,
    ...fields,
    timestamp: sender.timestamp ?? Date.now() / 1000,
    type,
  };
}

/** The fields of worker-online/heartbeat/offline. */
export function workerEventFields(stats: { active: number; processed: number }): Record<string, unknown> {
  const loadavg = os.loadavg().map((n) => Math.round(n * 100) / 100);
  return {
    freq: HEARTBEAT_FREQ,
    active: stats.active,
    processed: stats.processed,
    loadavg,
    sw_ident: 'taskq',
    sw_ver: TASKQ_EVENTS_VERSION,
    sw_sys: os.type(),
  };
}

/** The `sw_ver` workers report. */
export const TASKQ_EVENTS_VERSION = '0.0.0';

export interface EventSenderOptions {
  fanout: Fanout;
  /** The sender's node name (`name@host`), in every event and the `hostname` header. */
  hostname: string;
  clock?: LamportClock;
}

/**
 * Publishes events on `celeryev` (Celery's `EventDispatcher`): {@link send}
 * one message per event with the routing key of its type, {@link sendGroup}
 * a buffered group as one `<group>.multi` message with a list body (how
 * Celery's worker sends its task events).
 */
export class EventSender {
  readonly clock: LamportClock;

  constructor(private readonly options: EventSenderOptions) {
    this.clock = options.clock ?? new LamportClock();
  }

  get hostname(): string {
    return this.options.hostname;
  }

  /** Send one event; resolves once the transport took it. */
  async send(type: string, fields: Record<string, unknown> = {}): Promise<CeleryEvent> {
    const event = this.build(type, fields);
    await this.publish(event, eventRoutingKey(type));
    return event;
  }

  /** An event stamped now (timestamp and clock), to send later with {@link sendGroup}. */
  build(type: string, fields: Record<string, unknown> = {}): CeleryEvent {
    return buildEvent(type, fields, { hostname: this.options.hostname, clock: this.clock.forward() });
  }

  /**
   * Send buffered events of one group (`task`) as one message: a list body
   * with the routing key `<group>.multi`, as Celery's worker sends its
   * buffered task events. Receivers (Celery's, taskq's) take each item as
   * an event of its own.
   */
  sendGroup(group: string, events: CeleryEvent[]): Promise<void> {
    return this.publish(events, `${group}.multi`);
  }

  private publish(body: CeleryEvent | CeleryEvent[], routingKey: string): Promise<void> {
    const message: BroadcastMessage = { body, headers: { hostname: this.options.hostname }, deliveryMode: 1 };
    return this.options.fanout.publish(EVENT_EXCHANGE, routingKey, message);
  }
}
