/**
 * What the worker holds right now, request by request — the answers to
 * `inspect active`, `reserved` and `scheduled` — and the hook through which
 * the consumer loop reports each task's life (received, started, finished)
 * to the event dispatcher and the metrics.
 */
import type { Delivery, TaskMessage, TraceOutcome } from '@taskq/core';

/** Told by the consumer loop about each delivery's life. Implementations must be cheap and never throw. */
export interface TaskObserver {
  /** A task message arrived; `etaMs` when it is held until then. */
  received(delivery: Delivery, etaMs: number | undefined): void;
  /** It took a pool slot and starts now. */
  started(delivery: Delivery): void;
  /** It ran (or was discarded as revoked) with this outcome. */
  finished(delivery: Delivery, outcome: TraceOutcome, terminated: boolean): void;
  /** The worker no longer holds it (done, given back, dead-lettered). */
  released(delivery: Delivery): void;
}

/** One held request. */
export interface TrackedRequest {
  readonly delivery: Delivery;
  state: 'scheduled' | 'reserved' | 'active';
  receivedAt: number;
  startedAt?: number;
  etaMs?: number;
}

/** Celery's `Request.info()`: the dict `inspect active/reserved` shows per task. */
export function requestInfo(r: TrackedRequest, hostname: string, safe = false): Record<string, unknown> {
  const m: TaskMessage = r.delivery.message;
  const h = m.headers;
  return {
    id: h.id,
    name: h.task,
    args: safe ? h.argsrepr : m.body[0],
    kwargs: safe ? h.kwargsrepr : m.body[1],
    type: h.task,
    hostname,
    time_start: r.startedAt === undefined ? null : r.startedAt / 1000,
    acknowledged: r.state === 'active',
    delivery_info: {
      exchange: '',
      routing_key: r.delivery.queue,
      priority: m.properties.priority ?? 0,
      redelivered: r.delivery.redelivered,
    },
    worker_pid: r.state === 'active' ? process.pid : null,
  };
}

/** Fans one observer call out to several (tracker, events, metrics). */
export class ObserverFanout implements TaskObserver {
  private readonly observers: TaskObserver[] = [];

  add(observer: TaskObserver): () => void {
    this.observers.push(observer);
    return () => {
      const i = this.observers.indexOf(observer);
      if (i >= 0) this.observers.splice(i, 1);
    };
  }

  received(delivery: Delivery, etaMs: number | undefined): void {
    for (const o of this.observers) o.received(delivery, etaMs);
  }

  started(delivery: Delivery): void {
    for (const o of this.observers) o.started(delivery);
  }

  finished(delivery: Delivery, outcome: TraceOutcome, terminated: boolean): void {
    for (const o of this.observers) o.finished(delivery, outcome, terminated);
  }

  released(delivery: Delivery): void {
    for (const o of this.observers) o.released(delivery);
  }
}

/** The requests the worker holds, by state. */
export class RequestTracker implements TaskObserver {
  private readonly held = new Map<Delivery, TrackedRequest>();
  /** Tasks that ran, by name (Celery's `total` in `inspect stats`). */
  readonly total: Record<string, number> = {};
  /** Tasks that ran, all names together. */
  processed = 0;

  received(delivery: Delivery, etaMs: number | undefined): void {
    // Every field set here, in one order: one object shape for every request (no transition when it starts).
    const r: TrackedRequest = { delivery, state: etaMs === undefined ? 'reserved' : 'scheduled', receivedAt: Date.now(), startedAt: undefined, etaMs };
    this.held.set(delivery, r);
  }

  started(delivery: Delivery): void {
    const r = this.held.get(delivery);
    if (!r) return;
    r.state = 'active';
    r.startedAt = Date.now();
  }

  finished(delivery: Delivery, outcome: TraceOutcome): void {
    if (outcome.kind === 'revoked' && this.held.get(delivery)?.state !== 'active') return;
    const name = delivery.message.headers.task;
    this.total[name] = (this.total[name] ?? 0) + 1;
    this.processed++;
  }

  released(delivery: Delivery): void {
    this.held.delete(delivery);
  }

  /** Held requests in one state, oldest first. */
  list(state: TrackedRequest['state']): TrackedRequest[] {
    const out: TrackedRequest[] = [];
    for (const r of this.held.values()) {
      // A held eta task whose time came but has no slot yet is reserved, as in Celery.
      if (r.state === 'scheduled' && r.etaMs !== undefined && r.etaMs <= Date.now()) r.state = 'reserved';
      if (r.state === state) out.push(r);
    }
    return out;
  }

  /** The request with this task id, if held. */
  find(taskId: string): TrackedRequest | undefined {
    for (const r of this.held.values()) if (r.delivery.message.headers.id === taskId) return r;
    return undefined;
  }

  get size(): number {
    return this.held.size;
  }
}
