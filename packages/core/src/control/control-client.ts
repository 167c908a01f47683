/**
 * The client end of the remote-control mailbox (Celery's `app.control`):
 * broadcast a command to every worker (or some), and collect their replies
 * for a while — until `timeout` seconds passed or `limit` replies arrived, as
 * kombu's `Mailbox._broadcast` does.
 */
import { randomUUID } from 'node:crypto';
import type { Broker } from '../broker.js';
import type { Fanout } from '../broadcast.js';
import { TaskqError } from '../errors.js';
import { buildControlRequest, LamportClock, PIDBOX_EXCHANGE, replyBinding } from './pidbox.js';

/** The transport cannot broadcast (no fanout support). */
export class BroadcastUnsupportedError extends TaskqError {
  constructor(transport: string) {
    super('TASKQ_ERR_BROADCAST_UNSUPPORTED', `the ${transport} transport has no broadcast support, so remote control and events are unavailable; use redis://, amqp:// or memory://`);
  }
}

/** One node's reply: `{ "<nodename>": value }`. */
export type ControlReply = Record<string, unknown>;

export interface BroadcastOptions {
  /** The command's arguments. */
  arguments?: Record<string, unknown>;
  /** Node names to address (default: every node). */
  destination?: readonly string[];
  /** Select nodes by name pattern instead (`glob`, or `pcre` with `matcher`). */
  pattern?: string;
  matcher?: 'glob' | 'pcre';
  /** Wait for replies (default false: fire and forget). */
  reply?: boolean;
  /** Seconds to collect replies (default 1, Celery's). */
  timeout?: number;
  /** Stop after this many replies (default: the number of destinations, else unlimited). */
  limit?: number;
  /** Called with each reply as it arrives. */
  onReply?: (reply: ControlReply) => void;
}

/** What {@link Control} needs from the app. */
export interface ControlHost {
  getBroker(): Promise<Broker>;
}

/** Broadcast commands and inspect workers. Get it from `app.control`. */
export class Control {
  /** The reply routing key of this client (kombu's `mailbox.oid`). */
  readonly oid = randomUUID();
  readonly clock = new LamportClock();

  constructor(private readonly host: ControlHost) {}

  private async fanout(): Promise<Fanout> {
    const broker = await this.host.getBroker();
    if (!broker.fanout) throw new BroadcastUnsupportedError(broker.transport);
    return broker.fanout();
  }

  /**
   * Send a command; with `reply: true`, resolves with the replies collected
   * within `timeout` seconds (an empty list when no worker answered).
   */
  async broadcast(method: string, options: BroadcastOptions = {}): Promise<ControlReply[]> {
    const fanout = await this.fanout();
    const timeout = options.timeout ?? 1;
    const init = {
      method,
      arguments: options.arguments ?? {},
      destination: options.destination && options.destination.length > 0 ? options.destination : null,
      pattern: options.pattern ?? null,
      matcher: options.pattern ? (options.matcher ?? 'glob') : null,
      timeout,
    };
    if (!options.reply) {
      await fanout.publish(PIDBOX_EXCHANGE, '', buildControlRequest({ ...init, clock: this.clock.forward() }).message);
      return [];
    }
    const limit = options.limit ?? (init.destination ? init.destination.length : undefined);
    const ticket = randomUUID();
    const replies: ControlReply[] = [];
    let finish!: () => void;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    // Listen before asking, so no early reply is missed.
    const subscription = await fanout.subscribe(replyBinding(this.oid), (m) => {
      if (m.headers.ticket !== ticket) return;
      this.clock.adjust(m.headers.clock);
      if (m.body === null || typeof m.body !== 'object' || Array.isArray(m.body)) return;
      const reply = m.body as ControlReply;
      replies.push(reply);
      options.onReply?.(reply);
      if (limit !== undefined && replies.length >= limit) finish();
    });
    const timer = setTimeout(finish, timeout * 1000);
    try {
      await fanout.publish(PIDBOX_EXCHANGE, '', buildControlRequest({ ...init, replyTo: this.oid, ticket, clock: this.clock.forward() }).message);
      await done;
    } finally {
      clearTimeout(timer);
      await subscription.close();
    }
    return replies;
  }

  /** An {@link Inspect} for the given destination and timeout (Celery's `app.control.inspect()`). */
  inspect(options: InspectOptions = {}): Inspect {
    return new Inspect(this, options);
  }

  /** Ping workers; resolves with their replies (`{"w@h": {"ok": "pong"}}`). */
  ping(options: Omit<BroadcastOptions, 'reply' | 'arguments'> = {}): Promise<ControlReply[]> {
    return this.broadcast('ping', { ...options, reply: true });
  }

  /**
   * Revoke tasks on every worker (Celery's `app.control.revoke`). With
   * `terminate`, a running one is stopped too (`signal`, default SIGTERM).
   */
  revoke(taskId: string | readonly string[], options: { terminate?: boolean; signal?: string } & Omit<BroadcastOptions, 'arguments'> = {}): Promise<ControlReply[]> {
    const { terminate = false, signal = 'SIGTERM', ...rest } = options;
    return this.broadcast('revoke', { ...rest, arguments: { task_id: typeof taskId === 'string' ? taskId : [...taskId], terminate, signal } });
  }

  /** Revoke and terminate (Celery's `app.control.terminate`). */
  terminate(taskId: string | readonly string[], options: { signal?: string } & Omit<BroadcastOptions, 'arguments'> = {}): Promise<ControlReply[]> {
    return this.revoke(taskId, { ...options, terminate: true });
  }

  /** Set a task's rate limit on workers (`'10/m'`; null or '0' for none). */
  rateLimit(taskName: string, rateLimit: string | null, options: Omit<BroadcastOptions, 'arguments'> = {}): Promise<ControlReply[]> {
    return this.broadcast('rate_limit', { ...options, arguments: { task_name: taskName, rate_limit: rateLimit } });
  }

  /** Set a task's hard and soft time limits (seconds) on workers. */
  timeLimit(taskName: string, hard: number | null, soft: number | null = null, options: Omit<BroadcastOptions, 'arguments'> = {}): Promise<ControlReply[]> {
    return this.broadcast('time_limit', { ...options, arguments: { task_name: taskName, hard, soft } });
  }

  /** Ask workers to shut down (warm). No reply is sent. */
  shutdown(options: Omit<BroadcastOptions, 'arguments' | 'reply'> = {}): Promise<ControlReply[]> {
    return this.broadcast('shutdown', { ...options, reply: false });
  }

  poolGrow(n = 1, options: Omit<BroadcastOptions, 'arguments'> = {}): Promise<ControlReply[]> {
    return this.broadcast('pool_grow', { ...options, arguments: { n } });
  }

  poolShrink(n = 1, options: Omit<BroadcastOptions, 'arguments'> = {}): Promise<ControlReply[]> {
    return this.broadcast('pool_shrink', { ...options, arguments: { n } });
  }

  /** Make workers consume from one more queue. */
  addConsumer(queue: string, options: Omit<BroadcastOptions, 'arguments'> = {}): Promise<ControlReply[]> {
    return this.broadcast('add_consumer', { ...options, arguments: { queue, exchange: null, exchange_type: null, routing_key: null, options: {} } });
  }

  /** Make workers stop consuming from a queue. */
  cancelConsumer(queue: string, options: Omit<BroadcastOptions, 'arguments'> = {}): Promise<ControlReply[]> {
    return this.broadcast('cancel_consumer', { ...options, arguments: { queue } });
  }
}

export interface InspectOptions {
  destination?: readonly string[];
  /** Seconds to wait for replies (default 1). */
  timeout?: number;
  limit?: number;
  pattern?: string;
  matcher?: 'glob' | 'pcre';
}

/** Replies merged by node name, as Celery's `Inspect` returns them (`{"w@h": value}`), or undefined when nobody answered. */
export type InspectResult<T = unknown> = Record<string, T> | undefined;

/** Celery's `app.control.inspect()`: each method asks the workers and merges their replies. */
export class Inspect {
  constructor(
    private readonly control: Control,
    private readonly options: InspectOptions,
  ) {}

  /** Ask any inspect/control method by name (Celery's `inspect._request`). */
  async request<T = unknown>(method: string, args: Record<string, unknown> = {}): Promise<InspectResult<T>> {
    const replies = await this.control.broadcast(method, { ...this.options, arguments: args, reply: true });
    if (replies.length === 0) return undefined;
    return Object.assign({}, ...replies) as Record<string, T>;
  }

  ping(): Promise<InspectResult<{ ok: string }>> {
    return this.request('ping');
  }
  active(): Promise<InspectResult<unknown[]>> {
    return this.request('active', { safe: null });
  }
  scheduled(): Promise<InspectResult<unknown[]>> {
    return this.request('scheduled', { safe: null });
  }
  reserved(): Promise<InspectResult<unknown[]>> {
    return this.request('reserved', { safe: null });
  }
  registered(...taskinfoitems: string[]): Promise<InspectResult<string[]>> {
    return this.request('registered', { taskinfoitems });
  }
  stats(): Promise<InspectResult<Record<string, unknown>>> {
    return this.request('stats');
  }
  revoked(): Promise<InspectResult<string[]>> {
    return this.request('revoked');
  }
  activeQueues(): Promise<InspectResult<unknown[]>> {
    return this.request('active_queues');
  }
  conf(withDefaults = false): Promise<InspectResult<Record<string, unknown>>> {
    return this.request('conf', { with_defaults: withDefaults });
  }
  report(): Promise<InspectResult<{ ok: string }>> {
    return this.request('report');
  }
  queryTask(...ids: string[]): Promise<InspectResult<Record<string, unknown>>> {
    return this.request('query_task', { ids });
  }
}
