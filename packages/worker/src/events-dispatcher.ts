/**
 * The worker's Celery events (celery-protocol.md §6): `worker-online`, a
 * `worker-heartbeat` every 2 s and `worker-offline` always (monitors use them
 * to see workers), and — with task events on (`-E`, `sendTaskEvents`) —
 * task-received, -started, -succeeded, -failed, -retried and -revoked.
 */
import {
  type CeleryEvent,
  type Delivery,
  EventSender,
  type Fanout,
  HEARTBEAT_FREQ,
  type LamportClock,
  type Logger,
  pythonRepr,
  type TraceOutcome,
  workerEventFields,
} from '@taskq/core';
import { reprOfMessage } from './control-mailbox.js';
import type { RequestTracker, TaskObserver } from './request-tracker.js';

export interface WorkerEventsOptions {
  fanout: Fanout;
  hostname: string;
  clock: LamportClock;
  tracker: RequestTracker;
  /** Send task events (Celery's `-E` / `worker_send_task_events`). */
  taskEvents: boolean;
  log: Logger;
  /** Seconds between heartbeats (default 2, Celery's). */
  heartbeatInterval?: number;
}

/** Task events buffered before a send is forced (Celery's `buffer_limit`). */
export const TASK_EVENT_BUFFER = 24;

/**
 * Sends the worker's events; plug it into the consumer loop as a {@link TaskObserver}.
 * Task events are buffered, as Celery's worker does: each is stamped when it
 * happens, and the buffer goes out as one `task.multi` message (a list body)
 * at the end of the event loop's turn, or once it holds {@link TASK_EVENT_BUFFER}.
 * Worker events (online, heartbeat, offline) go out one by one.
 */
export class WorkerEvents implements TaskObserver {
  private readonly sender: EventSender;
  private timer: NodeJS.Timeout | undefined;
  /** Task events on (toggled by `enable_events` / `disable_events`). */
  taskEvents: boolean;
  private failedOnce = false;
  private buffer: CeleryEvent[] = [];
  private flushScheduled = false;
  /** Sends of the buffer still on their way (awaited by stop). */
  private readonly flushing = new Set<Promise<void>>();

  constructor(private readonly options: WorkerEventsOptions) {
    this.sender = new EventSender({ fanout: options.fanout, hostname: options.hostname, clock: options.clock });
    this.taskEvents = options.taskEvents;
  }

  /** Announce the worker and start the heartbeat. */
  async start(): Promise<void> {
    await this.send('worker-online', this.workerFields());
    const every = (this.options.heartbeatInterval ?? HEARTBEAT_FREQ) * 1000;
    this.timer = setInterval(() => void this.send('worker-heartbeat', this.workerFields()), every);
    this.timer.unref();
  }

  /** Stop the heartbeat, send the buffered task events, and say goodbye. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
    await Promise.all(this.flushing);
    await this.send('worker-offline', this.workerFields());
  }

  /** Buffer a task event (stamped now); see the class comment. */
  private task(type: string, fields: Record<string, unknown>): void {
    this.buffer.push(this.sender.build(type, fields));
    if (this.buffer.length >= TASK_EVENT_BUFFER) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.buffer.length === 0) return;
    const events = this.buffer;
    this.buffer = [];
    const sending = this.bestEffort(() => this.sender.sendGroup('task', events), { events: events.length }, `${events.length} task events`).finally(() =>
      this.flushing.delete(sending),
    );
    this.flushing.add(sending);
  }

  private workerFields(): Record<string, unknown> {
    const t = this.options.tracker;
    return workerEventFields({ active: t.list('active').length, processed: t.processed });
  }

  private send(type: string, fields: Record<string, unknown>): Promise<void> {
    return this.bestEffort(() => this.sender.send(type, fields), { type }, `the ${type} event`);
  }

  /** Events are best effort, as in Celery: a failure is logged (once, until a send works again), never thrown; the events are dropped. */
  private async bestEffort(sending: () => Promise<unknown>, context: Record<string, unknown>, what: string): Promise<void> {
    try {
      await sending();
      this.failedOnce = false;
    } catch (error) {
      if (!this.failedOnce) this.options.log.warn({ err: error, ...context }, `could not send ${what}`);
      this.failedOnce = true;
    }
  }

  received(delivery: Delivery, _etaMs: number | undefined): void {
    if (!this.taskEvents) return;
    const m = delivery.message;
    const h = m.headers;
    const { args, kwargs } = reprOfMessage(h, m.body);
    this.task('task-received', {
      uuid: h.id,
      name: h.task,
      args,
      kwargs,
      root_id: h.root_id,
      parent_id: h.parent_id,
      retries: h.retries,
      eta: h.eta,
      expires: h.expires,
    });
  }

  started(delivery: Delivery): void {
    if (this.taskEvents) this.task('task-started', { uuid: delivery.message.headers.id });
  }

  finished(delivery: Delivery, outcome: TraceOutcome, terminated: boolean): void {
    if (!this.taskEvents) return;
    const uuid = delivery.message.headers.id;
    switch (outcome.kind) {
      case 'success':
        this.task('task-succeeded', { uuid, result: pythonRepr(outcome.value), runtime: outcome.runtimeMs / 1000 });
        return;
      case 'failure':
        this.task('task-failed', { uuid, exception: exceptionRepr(outcome.excType, outcome.error), traceback: tracebackOf(outcome.error) });
        return;
      case 'retry':
        this.task('task-retried', { uuid, exception: `Retry(${pythonRepr(outcome.reason.message)})`, traceback: tracebackOf(outcome.reason) });
        return;
      case 'revoked':
        this.task('task-revoked', { uuid, terminated, signum: terminated ? 15 : null, expired: outcome.reason === 'expired' });
        return;
      default:
        return;
    }
  }

  released(): void {}
}

/** Python's repr of an exception: `ValueError('boom')`. */
function exceptionRepr(excType: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `${excType}(${pythonRepr(message)})`;
}

function tracebackOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
}
